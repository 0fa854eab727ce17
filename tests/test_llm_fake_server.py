"""The fake LLM server used by tests and perf benchmarks: thread mode, command line, protocols."""

import socket
import subprocess
import sys
import urllib.request

import openai

from tests.fakes.openai_server import FakeLLMServer, random_faults


def test_fake_server_runs_in_a_thread_for_sync_code():
    with FakeLLMServer(lambda call: f"echo {call.prompt}") as server:
        sync = openai.OpenAI(base_url=server.openai_url, api_key="x", max_retries=0)
        reply = sync.chat.completions.create(model="m", messages=[{"role": "user", "content": "ping"}])
        assert reply.choices[0].message.content == "echo ping"
        assert sync.models.list().data[0].id == "fake-model"
        sync.close()


def test_fake_server_command_line(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.openai_server", "--delay", "0",
                             "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert "fake LLM server on" in proc.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5) as reply:
            assert b"fake-model" in reply.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_random_fault_schedule_is_seeded():
    a, b = random_faults(0.5, ["429", "500"], seed=1), random_faults(0.5, ["429", "500"], seed=1)
    drawn = [a(i) for i in range(200)]
    assert drawn == [b(i) for i in range(200)]
    assert 60 < sum(f is not None for f in drawn) < 140 and {"429", "500", None} == set(drawn)


async def test_max_tokens_cut_and_stop_handling_follow_the_protocols():
    async with FakeLLMServer(lambda call: "one two three four") as server:
        sdk = openai.AsyncOpenAI(base_url=server.openai_url, api_key="x", max_retries=0)
        short = await sdk.completions.create(model="m", prompt="p", max_tokens=2)
        kept = await sdk.completions.create(model="m", prompt="p", stop=["three"],
                                            extra_body={"include_stop_str_in_output": True})
        dropped = await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "p"}],
                                                    stop=["three"])
        await sdk.close()
    assert (short.choices[0].text, short.choices[0].finish_reason) == ("one two", "length")
    assert kept.choices[0].text == "one two three"
    assert dropped.choices[0].message.content == "one two "
