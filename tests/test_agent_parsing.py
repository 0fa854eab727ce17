from agent.parsing import parse_code, parse_monologue


def test_monologue_clean_and_missing_close():
    assert parse_monologue("I think.\n</inner_monologue>").body == "I think."
    p = parse_monologue("I think.")
    assert (p.body, p.problems) == ("I think.", ["missing_closing_tag"])
    p = parse_monologue("ok</inner_monologue> and more")
    assert p.problems == ["text_outside_tags"]
    assert "empty_monologue" in parse_monologue("  </inner_monologue>").problems


def test_code_variants():
    assert parse_code("x = 1\n</run_ipython>").body == "x = 1"
    p = parse_code("```python\nx = 1\n```\n</run_ipython>")
    assert (p.body, p.error, p.problems) == ("x = 1", None, ["code_fence"])
    p = parse_code("```python\na=1\n```\n```python\nb=2\n```</run_ipython>")
    assert p.error and "2 separate code blocks" in p.error
    p = parse_code("\n</run_ipython>")
    assert p.error and "empty" in p.error
    p = parse_code("<run_ipython>\nx=1\n</run_ipython>")
    assert p.body == "x=1" and "repeated_opening_tag" in p.problems
    p = parse_code("for i in range(", cut="length")
    assert p.error and "cut off" in p.error
    p = parse_code("x = 1\nx = 1\nx = 1\n", cut="repetition")
    assert p.error and "repeating" in p.error and p.problems == ["repetition"]
    assert parse_monologue("I am ready. I am ready.", cut="repetition").problems == ["repetition"]
