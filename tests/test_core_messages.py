from agent import prompt as P
from core.messages import HintSection, HintSet, student_keeps_nothing_hidden, to_chat


def _conversation():
    hints = HintSet(name="h", sections=[HintSection(name="a", text="A"), HintSection(name="b", text="B")])
    msgs = P.preamble("Do it.", "str", hints, "tool docs")
    for k in range(2):
        msgs += [P.status_message(k, 3), P.monologue_instruction(k)]
        msgs.append(P.assistant_message(P.MONOLOGUE_TAG, f"think {k}", k))
        msgs += [P.code_instruction(k), P.assistant_message(P.CODE_TAG, f"x = {k}", k)]
        msgs.append(P.observation_message("out", k))
    return msgs


def test_reminders_only_in_latest_step():
    chat = to_chat(_conversation())
    instr = [c["content"] for c in chat if c["content"].startswith("Please")]
    assert len(instr) == 4
    assert all("Respond in this format" not in t for t in instr[:2])
    assert all("Respond in this format" in t for t in instr[2:])


def test_student_view_equals_no_hint_prompt():
    student = to_chat(_conversation(), student_keeps_nothing_hidden)
    assert [c["role"] for c in student][0] == "user"
    assert not any("<guideline" in c["content"] or "tools_documentation" in c["content"] for c in student)
    bare = P.preamble("Do it.", "str", HintSet(name="none"), "")
    assert student[0]["content"] == to_chat(bare)[0]["content"]
    assert len(student) == len(to_chat(_conversation())) - 2


def test_assistant_prefill_rendered():
    chat = to_chat(_conversation())
    mono = [c for c in chat if c["role"] == "assistant"][0]["content"]
    assert mono == "<inner_monologue>\nthink 0\n</inner_monologue>"
