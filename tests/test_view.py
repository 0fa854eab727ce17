"""`mnm view`: what the page holds, that model output can never become markup, and the page in a real browser.

Inputs are real: a ToolQA-mini collection by the scripted expert (`mnm collect`), a review and
verified corrections of a faulty agent on the sample task, a round-1 dataset, and an episode whose
monologue and output are HTML and ``<script>`` written by the agent itself. The browser tests drive
the distribution's Chromium through its chromedriver (selenium); they skip, saying why, when either
is missing. Screenshots of every page go to a temporary directory, printed by the test.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent.scripted import ExpertStep, replay_agent
from benchmarking.browser import BrowserMissing, chromium, wait_for
from core.rundir import load_run, trajectories
from filters.correct import correct
from filters.dataset import DatasetConfig, build_dataset
from filters.review import review
from filters.view import gather, make_server, render, view
from tasks.collection.config import TaskSelection
from tasks.sample import SampleBenchmark
from tests.fakes.agents import FAULTY_SAMPLE, faulty_agent
from tests.fakes.tiny_model import build_tiny_tokenizer
from tests.test_filters_correct import RULES, teacher
from tests.test_filters_support import collect_run

ROOT = Path(__file__).resolve().parent.parent
EVIL = ("</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
        "<b id=injected>bold</b>&amp;")
EVIL_AGENT = [ExpertStep(f"I will print some HTML: {EVIL}", f"print({EVIL!r})\nprint('line\\n' * 80)"),
              ExpertStep("Done.", "complete_task('r', 'x')")]


def mnm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnm_cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """ToolQA-mini expert run, a faulty and an evil sample run, their review + corrections, a dataset."""
    root = tmp_path_factory.mktemp("view")
    out = mnm("collect", "teacher-train", "--set", "tasks.data=tiny", "--set", "trials=1", "--set",
              "tasks.groups=[coffee,dblp]", "--set", "tasks.per_template=1", "--set", f"run_dir={root / 'toolqa'}",
              "--quiet")
    assert out.returncode == 0, out.stderr[-2000:]
    bench, sel = SampleBenchmark(), TaskSelection(benchmark="sample")
    faulty = collect_run(root / "faulty", faulty_agent(), bench, sel)
    evil = collect_run(root / "evil", replay_agent(EVIL_AGENT, model="evil"), bench, sel)
    (traj,) = load_run(evil)  # a run file from elsewhere: any field may hold markup, even the template
    trajectories(evil).append(traj.model_copy(update={"template": EVIL}))
    review([faulty], RULES, root / "review", show_progress=False)
    correct(root / "review", teacher(), samples=2, verify=True, show_progress=False)
    build_dataset(root / "dataset", DatasetConfig(exports=[]), runs=[root / "toolqa"], show=False)
    build_tiny_tokenizer(root / "tokenizer")
    return {"root": root, "tokenizer": root / "tokenizer", "toolqa": root / "toolqa", "faulty": faulty, "evil": evil,
            "review": root / "review", "dataset": root / "dataset"}


def embedded(page: str) -> tuple[dict, dict[str, dict]]:
    """The index and the details as the page carries them."""
    index = json.loads(re.search(r'<script type="application/json" id="mnm-index">(.*?)</script>', page, re.S)[1])
    details = {m[1]: json.loads(gzip.decompress(base64.b64decode(m[2])))
               for m in re.finditer(r'<script type="application/octet-stream" id="d-([a-z]+-[a-z0-9]+)">(.*?)</script>',
                                    page, re.S)}
    return index, details


def test_page_carries_every_input_and_round_trips(inputs):
    data = gather([inputs["root"]])
    index, details = embedded(render(data, "t"))
    assert index == json.loads(json.dumps(data.index))
    assert details == {f"{k}-{i}": json.loads(json.dumps(d)) for k, ds in data.details.items() for i, d in ds.items()}
    toolqa = list(trajectories(inputs["toolqa"]))
    assert len(index["episodes"]) == len(toolqa) + 2
    assert {r["group"] for r in index["episodes"]} == {"coffee", "dblp", "sample"}
    top = inputs["root"].name
    assert [r[0] for r in index["report"]["rows"]] == [f"{top}/evil", f"{top}/faulty", f"{top}/toolqa"]
    # flagged states: their filters, and the corrections with the one that verification dropped
    states = {r["step"]: r for r in index["states"]}
    assert states[1]["filters"] == ["ignored-exception", "repeated-cell"] and states[1]["kept"] == 1
    state = details[f"state-{states[1]['id']}"]
    assert state["original"]["code"] == FAULTY_SAMPLE[1].code
    assert sorted((c["kept"], c["verification"]) for c in state["corrections"]) == [(False, "exception"), (True, "ok")]
    assert all(v["hint"] for v in state["verdicts"])
    # examples keep their droppable sections and their targets
    ex = details[f"example-{index['examples'][0]['id']}"]
    assert ex["sections"] and [m["kind"] for m in ex["messages"] if m["target"]] == ["monologue", "code"]
    assert index["datasets"][0]["composition"]["total"]["examples"] == len(index["examples"])


def test_examples_show_their_target_tokens(inputs):
    data = gather([inputs["dataset"]], tokenizer=inputs["tokenizer"])
    ex = next(iter(data.details["example"].values()))
    monologue, code = [m["parts"][0]["text"] for m in ex["messages"] if m["target"]]
    # each target: its text after the prefill (closing tag included), then the end-of-turn token
    assert "".join(ex["tokens"]) == f"{monologue.strip()}<|eot_id|>{code.strip()}<|eot_id|>"
    assert ex["tokenizer"] == str(inputs["tokenizer"])


def test_html_from_the_model_stays_text_in_the_file(inputs):
    page = render(gather([inputs["evil"]]), "<title>x</title>")
    assert EVIL not in page and "<img" not in page
    scripts = re.findall(r"<script\b", page)
    closes = re.findall(r"</script>", page)
    assert len(scripts) == len(closes) == 2 + 1  # index, the episode's detail, the page's code
    index, details = embedded(page)
    assert index["episodes"][0]["template"] == EVIL
    (episode,) = [d for k, d in details.items() if k.startswith("episode-")]
    assert any(EVIL in m["parts"][0]["text"] for m in episode["messages"] if m["kind"] == "observation")


def test_rounds_form_a_curve(inputs, tmp_path):
    for r in (0, 1):
        shutil.copytree(inputs["faulty"], tmp_path / f"round-{r}" / "collect-test")
    curves = gather([tmp_path]).index["curves"]
    assert [(c["series"], [p["round"] for p in c["points"]]) for c in curves] == [("collect-test", [0, 1])]


def test_cli_writes_the_page_and_refuses_what_is_not_a_run(inputs, tmp_path):
    out = mnm("view", str(inputs["toolqa"]), str(inputs["review"]), "--out", str(tmp_path / "v.html"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "mnm view: toolqa, review" in (tmp_path / "v.html").read_text()
    (tmp_path / "empty").mkdir()
    bad = mnm("view", str(tmp_path / "empty"))
    assert bad.returncode == 2 and "no run (trajectories.jsonl), review" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


# -- in the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    try:
        b = chromium()
    except BrowserMissing as e:
        pytest.skip(str(e))
    yield b
    b.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = tmp_path_factory.mktemp("view-screenshots")
    print(f"\nscreenshots: {path}")
    return path


def _wait(browser, script: str):
    return wait_for(browser, script, timeout=20)


def _text(browser) -> str:
    return browser.execute_script("return document.getElementById('main').innerText")


def _click(browser, css: str, index: int = 0):
    from selenium.webdriver.common.by import By

    browser.find_elements(By.CSS_SELECTOR, css)[index].click()


def _shot(browser, path: Path) -> None:
    browser.execute_script("window.scrollTo(0, 0)")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(max(height, 800), 6000) + 200)  # + the window's own bars
    browser.save_screenshot(str(path))
    browser.set_window_size(1400, 1000)


def _select(browser, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.CSS_SELECTOR, f"select[name={name}]")).select_by_value(value)


def _episodes_page(browser, shots: Path, tag: str) -> None:
    """Filter by group, open an episode: steps, hint sections, outcome."""
    _click(browser, "#tab-Episodes")
    groups = browser.execute_script("return [...document.querySelectorAll('select[name=group] option')].map(o => o.value)")
    group = [g for g in groups if g][-1]
    _select(browser, "group", group)
    cells = browser.execute_script("return [...document.querySelectorAll('tr.row')].map(r => r.children[2].textContent)")
    assert cells and set(cells) == {group}
    tokens = "return [...document.querySelectorAll('tr.row')].map(r => +r.children[8].textContent)"
    for _ in range(2):  # sorted by tokens, ascending then descending
        _click(browser, "th", 8)
    assert browser.execute_script(tokens) == sorted(browser.execute_script(tokens), reverse=True)
    _click(browser, "tr.row")
    _wait(browser, "return document.querySelector('#episode-detail .outcome')")
    text = _text(browser)
    assert "Preamble" in text and "Step 1" in text and "termination" in text
    assert browser.execute_script("return document.querySelectorAll('#episode-detail .part.hint').length") > 0
    _shot(browser, shots / f"{tag}-episode.png")


def test_browser_navigates_toolqa_review_and_dataset(inputs, browser, shots, tmp_path):
    page = view([inputs["root"]], tmp_path / "view.html", tokenizer=inputs["tokenizer"])
    browser.get(page.as_uri())
    _wait(browser, "return document.body.dataset.ready")
    assert f"{inputs['root'].name}/toolqa" in _text(browser) and "avg" in _text(browser)
    _shot(browser, shots / "toolqa-runs.png")
    _episodes_page(browser, shots, "toolqa")

    _click(browser, "#tab-Review")
    _click(browser, "tr.row")
    _wait(browser, "return document.querySelector('#state-detail .cols')")
    text = _text(browser)
    assert "repeated-cell" in text and "corrective hint" in text and "dropped · verification exception" in text
    assert "kept · verification ok" in text and FAULTY_SAMPLE[0].code.splitlines()[0] in text
    _shot(browser, shots / "review.png")
    state = browser.current_url.split("#")[1]
    assert state.startswith("Review/s")  # the address names the open state: a link reopens it
    browser.get(f"{page.as_uri()}#Episodes/e1")
    _wait(browser, "return document.querySelector('#episode-detail .outcome')")
    assert browser.execute_script("return document.querySelector('tr.selected').dataset.id") == "e1"
    browser.get(f"{page.as_uri()}#{state}")
    _wait(browser, "return document.querySelector('#state-detail .cols')")

    _click(browser, "#tab-Datasets")
    assert "composition" in _text(browser)
    _click(browser, "tr.row")
    _wait(browser, "return document.querySelector('#example-detail #student-view')")
    struck = browser.execute_script("return document.querySelectorAll('#student-view del.part').length")
    kept = browser.execute_script("return document.querySelectorAll('#teacher-view del.part').length")
    assert struck > 0 and kept == 0
    assert browser.execute_script("return document.querySelectorAll('#student-view .msg.target').length") == 2
    assert browser.execute_script("return document.querySelectorAll('#target-tokens .tok').length") > 10
    _shot(browser, shots / "dataset.png")


def test_browser_shows_model_html_as_text(inputs, browser, shots, tmp_path):
    page = view([inputs["evil"]], tmp_path / "evil.html")
    browser.get(page.as_uri())
    _wait(browser, "return document.body.dataset.ready")
    _click(browser, "#tab-Episodes")
    _click(browser, "tr.row")
    _wait(browser, "return document.querySelector('#episode-detail .outcome')")
    # shown literally: in the list's template cell, the episode's header, its monologue and its output
    assert browser.execute_script("return document.querySelector('tr.row').children[3].textContent") == EVIL
    assert browser.execute_script("return document.getElementById('episode-detail').innerText").count(EVIL) == 3
    assert browser.title.startswith("mnm view") and "pwned" not in browser.title
    assert browser.execute_script("return document.querySelectorAll('main img, #injected').length") == 0
    more = browser.execute_script("return [...document.querySelectorAll('a.more')].map(a => a.textContent)")
    assert any(m.startswith("show all") for m in more)  # the 80-line output is collapsed
    _shot(browser, shots / "evil-episode.png")


def test_browser_loads_details_from_the_server(inputs, browser, shots):
    server = make_server(gather([inputs["toolqa"]]), "served", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}/")
        _wait(browser, "return document.body.dataset.ready")
        assert not browser.execute_script("return document.querySelector('script[type=\"application/octet-stream\"]')")
        _episodes_page(browser, shots, "served")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_browser_navigates_the_quick_demo(browser, shots, quick_demo_run):
    browser.get(view([quick_demo_run]).as_uri())
    _wait(browser, "return document.body.dataset.ready")
    assert "round-1/collect-test-nohints" in _text(browser) and "Round over round" in _text(browser)
    _shot(browser, shots / "demo-runs.png")
    _episodes_page(browser, shots, "demo")
