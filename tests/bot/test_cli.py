import json
import os
import subprocess
import sys

from conftest import ROOT, write_article

from bot.cli import EXIT_BUILD_FAILED, EXIT_NO_INDEX, EXIT_OK, EXIT_USAGE, main


def test_cli_index_prints_one_summary_line_then_incremental(small_kb, tmp_path, capsys, env_fake):
    idx = tmp_path / "idx"
    assert main(["index", "--kb", str(small_kb), "--index", str(idx)]) == EXIT_OK
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "3 articles" in out[0] and "3 added" in out[0]
    (small_kb / "password.md").write_text("# Reset your password\nNew text about the SMS code.\n")
    assert main(["index", "--kb", str(small_kb), "--index", str(idx)]) == EXIT_OK
    line = capsys.readouterr().out.strip()
    assert "0 added, 1 changed, 0 removed, 2 unchanged; re-embedded 1 article " in line


def test_cli_index_lists_every_bad_file_and_fails(small_kb, tmp_path, capsys, env_fake):
    write_article(small_kb, "a.md", "---\ntitle: [x\n---\n# A\n")
    (small_kb / "b.md").write_bytes(b"# B\n\xff\xfe")
    code = main(["index", "--kb", str(small_kb), "--index", str(tmp_path / "idx")])
    err = capsys.readouterr().err
    assert code == EXIT_BUILD_FAILED
    assert f"{small_kb / 'a.md'}: invalid YAML" in err
    assert f"{small_kb / 'b.md'}: not valid UTF-8" in err
    assert not (tmp_path / "idx" / "CURRENT").exists()
    code = main(["index", "--kb", str(small_kb), "--index", str(tmp_path / "idx"), "--skip-invalid"])
    captured = capsys.readouterr()
    assert code == EXIT_OK and "skipped 2 invalid files" in captured.out
    assert "a.md" in captured.err and "b.md" in captured.err


def test_cli_index_missing_kb_folder(tmp_path, capsys, env_fake):
    assert main(["index", "--kb", str(tmp_path / "nope"), "--index", str(tmp_path / "idx")]) == EXIT_BUILD_FAILED
    assert "does not exist" in capsys.readouterr().err


def test_cli_search_and_ask(small_kb, tmp_path, capsys, env_fake):
    idx = tmp_path / "idx"
    main(["index", "--kb", str(small_kb), "--index", str(idx)])
    capsys.readouterr()
    assert main(["search", "--index", str(idx), "--json", "refund bank card"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["results"][0]["article_id"] == "en-returns"
    assert set(data["results"][0]) == {"article_id", "title", "section", "snippet", "url", "lang", "score"}
    assert main(["search", "--index", str(idx), "refund bank card"]) == EXIT_OK
    assert "Returns and refunds" in capsys.readouterr().out


CHAT_FIELDS = {
    "session_id", "reply", "lang", "answered", "confidence", "handoff", "handoff_reason",
    "ticket_id", "sentiment", "sources", "related", "message_id", "customer_message_id", "state", "kind",
    "feedback",
}  # fmt: skip


def test_cli_ask_json_is_the_chat_object_and_sessions_continue(small_kb, tmp_path, capsys, env_fake, monkeypatch):
    idx = tmp_path / "idx"
    main(["index", "--kb", str(small_kb), "--index", str(idx)])
    capsys.readouterr()
    monkeypatch.setenv("PASOKH_CONFIDENCE_THRESHOLD", "0.0")  # the fake model has no calibration: answer everything
    assert main(["ask", "--index", str(idx), "--json", "reset password"]) == EXIT_OK
    reply = json.loads(capsys.readouterr().out)
    assert set(reply) == CHAT_FIELDS
    assert reply["answered"] is True
    assert reply["sources"][0]["article_id"] == "password"
    assert "Forgot password" in reply["reply"]
    assert main(["ask", "--index", str(idx), "--json", "--session", reply["session_id"], "I want a human"]) == EXIT_OK
    second = json.loads(capsys.readouterr().out)
    assert second["session_id"] == reply["session_id"]
    assert second["handoff_reason"] == "requested" and second["ticket_id"]


def test_cli_ask_refuses_unknown_session_and_empty_message(small_kb, tmp_path, capsys, env_fake):
    idx = tmp_path / "idx"
    main(["index", "--kb", str(small_kb), "--index", str(idx)])
    capsys.readouterr()
    assert main(["ask", "--index", str(idx), "--session", "nope", "hello"]) == EXIT_USAGE
    assert "session_id" in capsys.readouterr().err
    assert main(["ask", "--index", str(idx), "   "]) == EXIT_USAGE
    assert "message" in capsys.readouterr().err


def test_cli_serve_bad_setting_fails_before_listening(small_kb, tmp_path, capsys, env_fake, monkeypatch):
    idx = tmp_path / "idx"
    main(["index", "--kb", str(small_kb), "--index", str(idx)])
    monkeypatch.setenv("PASOKH_BUSINESS_HOURS", "someday 25:00-26:00")
    assert main(["serve", "--index", str(idx), "--port", "1"]) == EXIT_USAGE
    assert "PASOKH_BUSINESS_HOURS" in capsys.readouterr().err


def test_cli_search_without_index_or_query(tmp_path, capsys, env_fake):
    assert main(["search", "--index", str(tmp_path / "none"), "hello"]) == EXIT_NO_INDEX
    assert "pasokh index" in capsys.readouterr().err
    assert main(["search", "--index", str(tmp_path / "none"), "   "]) == EXIT_USAGE


def test_cli_search_refuses_index_of_other_model(small_kb, tmp_path, capsys, env_fake, monkeypatch):
    idx = tmp_path / "idx"
    main(["index", "--kb", str(small_kb), "--index", str(idx)])
    monkeypatch.setenv("PASOKH_MODEL", "some/other-model")
    assert main(["search", "--index", str(idx), "refund"]) == EXIT_NO_INDEX
    assert "built with model" in capsys.readouterr().err


def test_console_script_help_runs():
    exe = os.path.join(os.path.dirname(sys.executable), "pasokh")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and "index" in proc.stdout and "search" in proc.stdout


def test_cli_bad_setting_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PASOKH_SECTION_MAX_CHARS", "5")
    assert main(["index", "--kb", str(tmp_path), "--index", str(tmp_path / "i")]) == EXIT_USAGE
    assert "section_max_chars" in capsys.readouterr().err


def test_cli_setup_prepares_the_onnx_export_without_warning_it_is_missing(tmp_path, capsys, caplog, monkeypatch):
    import indexer.onnx_embedder as onnx_embedder  # noqa: PLC0415

    prepared: list = []

    def fake_prepare(cache):
        prepared.append(cache)
        return cache / "bundled"

    monkeypatch.setattr(onnx_embedder, "prepare_bundled_model", fake_prepare)
    monkeypatch.setenv("PASOKH_MODEL_CACHE", str(tmp_path / "cache"))
    for name in ("PASOKH_MODEL", "PASOKH_EMBED_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    assert main(["setup"]) == EXIT_OK  # the cache is empty: nothing exported yet
    assert prepared == [tmp_path / "cache"]
    assert f"embedding model ready: {tmp_path / 'cache' / 'bundled'}" in capsys.readouterr().out
    assert "No ONNX export" not in caplog.text
