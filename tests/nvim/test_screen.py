"""The plugin as a person sees it: a real Neovim with a UI attached
(pynvim), the rendered screen read back cell by cell, and a Neovim that quits
while its task runs followed by a new one that reports the result."""
import os
import subprocess
import time

import pynvim
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NVIM = os.environ["NVIM_BIN"]
ERRAND = os.environ["ERRAND_BIN"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{var}_HOME", str(tmp_path / var.lower()))
    monkeypatch.setenv("ERRAND_HOME", str(tmp_path / "errand"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def start_nvim(cols=100, rows=30, record_popups=True):
    """A child Neovim with the plugin; popups recorded (as a notification
    plugin would take them) unless `record_popups` is False: then Neovim's
    own vim.notify shows them on the message line."""
    nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean", "-n"])
    nvim.exec_lua(
        """
        vim.opt.runtimepath:prepend(...)
        vim.cmd("runtime plugin/errand.lua")
        require("errand").setup({ binary = select(2, ...) })
        _G.popups = {}
        if select(3, ...) then
          vim.notify = function(msg, level) table.insert(_G.popups, { msg = msg, level = level }) end
        end
        """,
        os.path.join(ROOT, "plugin", "nvim"),
        ERRAND,
        record_popups,
    )
    nvim.ui_attach(cols, rows, rgb=True, ext_linegrid=True)
    return nvim


def screen(nvim):
    """The rendered screen, one string per row."""
    return nvim.exec_lua(
        """
        local rows = {}
        for r = 1, vim.o.lines do
          local cells = {}
          for c = 1, vim.o.columns do cells[#cells + 1] = vim.fn.screenstring(r, c) end
          rows[#rows + 1] = table.concat(cells)
        end
        return rows
        """
    )


def wait_for(what, cond, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


def test_tasks_window_and_statusline_on_screen(env):
    nvim = start_nvim()
    try:
        nvim.command("set laststatus=2 statusline=%f%=%{v:lua.require'errand'.status()}")
        nvim.exec_lua("require('errand').run('sleep 100', { name = 'long build' })")
        nvim.exec_lua("require('errand').run('echo done', { name = 'quick check' })")
        wait_for("a popup for the quick task", lambda: nvim.exec_lua("return #_G.popups") >= 1)
        nvim.command("Errand list")

        def shown():
            nvim.command("redraw!")
            rows = screen(nvim)
            text = "\n".join(rows)
            if "Running (1)" in text and "long build" in text and "quick check" in text and "1 running" in rows[-2]:
                return rows
        rows = wait_for("the window and the statusline on screen", shown)
        text = "\n".join(rows)
        assert "errand" in text  # the float's title
        running = next(i for i, r in enumerate(rows) if "Running (1)" in r)
        completed = next(i for i, r in enumerate(rows) if "Completed (1)" in r)
        assert "● " in rows[running + 1] and "long build" in rows[running + 1]
        assert "✓ " in rows[completed + 1] and "quick check" in rows[completed + 1]
        assert "s ago" in rows[completed + 1]
        assert rows[-2].rstrip().endswith("1 running")  # the statusline row
        nvim.exec_lua("require('errand').cancel(select(1, ...))", nvim.exec_lua(
            "for id, t in pairs(require('errand').tasks()) do if t.name == 'long build' then return id end end"))

        def idle():
            nvim.command("redraw!")
            rows = screen(nvim)
            return "Cancelled (1)" in "\n".join(rows) and not rows[-2].rstrip().endswith("running")
        wait_for("the window and statusline after cancel", idle)
    finally:
        nvim.close()


def test_a_task_outlives_neovim_and_the_next_one_reports_it(env):
    first = start_nvim()
    # The task waits until Neovim is gone.
    first.exec_lua(
        "require('errand').run('until [ -e gone ]; do sleep 0.01; done; echo it ended; exit 2', { name = 'left behind' })"
    )
    wait_for("running", lambda: first.exec_lua("return require('errand').status()") == "1 running")
    try:
        first.command("qa!")  # Neovim exits before it can answer
    except EOFError:
        pass
    try:
        first.close()
    except Exception:
        pass  # already gone
    (env / "gone").touch()
    out = subprocess.run([ERRAND, "wait", "--all"], capture_output=True, text=True, timeout=30)
    # `wait --all` exits with the status of a task that failed while it
    # waited (exit 2), or 0 if the task had already ended when it looked.
    assert out.returncode in (0, 2), out
    listed = subprocess.run([ERRAND, "ls", "--json"], capture_output=True, text=True).stdout
    assert '"status": "failed"' in listed and '"name": "left behind"' in listed

    second = start_nvim()
    try:
        second.exec_lua("require('errand').status()")  # a statusline draw starts the server
        popup = wait_for(
            "the summary popup",
            lambda: second.exec_lua(
                "for _, p in ipairs(_G.popups) do if p.msg:find('while Neovim was closed') then return p end end"
            ),
        )
        assert "left behind" in popup["msg"]
        assert popup["level"] == 3  # WARN: one of them failed
        wait_for("1 failed in the statusline", lambda: second.exec_lua("return require('errand').status()") == "1 failed")
    finally:
        second.close()
    # Reported once: the next Neovim, its failure still unread, says nothing.
    third = start_nvim()
    try:
        third.exec_lua("require('errand').status()")
        wait_for("1 failed in the statusline", lambda: third.exec_lua("return require('errand').status()") == "1 failed")
        assert third.exec_lua("return _G.popups") == []
    finally:
        third.close()


def test_the_statusline_follows_while_the_tasks_window_has_the_focus(env):
    """No `redraw!` here: what the user sees is what Neovim draws by itself."""
    nvim = start_nvim()
    try:
        nvim.command("set laststatus=2 statusline=%f%=%{v:lua.require'errand'.status()}")
        nvim.exec_lua("require('errand').run('until [ -e go ]; do sleep 0.01; done', { name = 'gated' })")
        wait_for("1 running on screen", lambda: screen(nvim)[-2].rstrip().endswith("1 running"))
        nvim.command("Errand list")
        wait_for("the window shows it", lambda: "gated" in "\n".join(screen(nvim)))
        (env / "go").touch()
        wait_for("the statusline empties", lambda: not screen(nvim)[-2].rstrip().endswith("running"))
    finally:
        nvim.close()


def test_no_press_enter_prompt_in_a_stock_neovim(env):
    """Neovim's own vim.notify, an 80-column screen: a failure with many
    lines of output, a burst of 12, the keys help and the start-up summary
    each leave the editor free for input."""
    def free(nvim, what):
        # nvim_get_mode answers even at a prompt (other requests wait there).
        mode = nvim.api.get_mode()
        assert not mode["blocking"] and mode["mode"] == "n", f"{what}: {mode}"

    def messages(nvim):
        free(nvim, "before reading :messages")
        return nvim.exec_lua("return vim.fn.execute('messages')")

    # Ended before Neovim started: the start-up summary.
    for i in range(3):
        out = subprocess.run([ERRAND, "run", "--name", f"earlier task number {i} with a long name", "--", "false"],
                             capture_output=True, text=True, check=True)
        subprocess.run([ERRAND, "wait", out.stdout.strip()], capture_output=True)
    nvim = start_nvim(cols=80, rows=24, record_popups=False)
    try:
        nvim.exec_lua("require('errand').status()")
        wait_for("the summary", lambda: "finished while" in messages(nvim))
        free(nvim, "start-up summary")

        nvim.exec_lua("require('errand').run('seq 1 40; echo boom >&2; exit 3', { name = 'a failing build' })")
        wait_for("the failure", lambda: "boom" in messages(nvim))
        free(nvim, "a failure")
        assert "(exit 3)" in messages(nvim)
        # A name longer than the line is cut first: the outcome and id stay.
        long_name = "a very long name " * 8
        nvim.exec_lua("require('errand').run('exit 4', { name = ... })", long_name)
        failure = wait_for("the long one", lambda: [l for l in messages(nvim).splitlines() if "(exit 4)" in l])
        task_id = nvim.exec_lua(
            "for id, t in pairs(require('errand').tasks()) do if t.exitCode == 4 then return id end end")
        assert failure[0].rstrip().endswith(f"(exit 4) · {task_id}"), failure

        nvim.exec_lua("for i = 1, 12 do require('errand').run('true', { name = 'burst ' .. i }) end")
        wait_for("the burst summary", lambda: "more tasks finished" in messages(nvim))
        free(nvim, "a burst")
        shown = messages(nvim)
        assert shown.count("burst ") <= 3, shown

        nvim.command("Errand list")
        wait_for("the window", lambda: free(nvim, "the window") or "Running (" in "\n".join(screen(nvim)))
        nvim.input("?")
        wait_for("the keys help in the window", lambda: "errand tasks window" in "\n".join(screen(nvim)))
        free(nvim, "the keys help")
    finally:
        nvim.close()


def test_output_terminal_shows_colour_and_takes_typed_lines(env):
    """Typed as a user types (nvim_input with a UI attached): terminal mode
    sends keys to the task a line at a time; Ctrl-D closes its stdin."""
    nvim = start_nvim(cols=80, rows=24)
    try:
        task = subprocess.run(
            [ERRAND, "run", r"""printf '\033[31mred\033[0m plain\n'; while read l; do echo "got $l"; done; echo eof"""],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        nvim.command(f"Errand output {task}")
        rows = wait_for("the output on screen", lambda: [r for r in screen(nvim) if "red plain" in r])
        row = screen(nvim).index(rows[0]) + 1
        col = rows[0].index("red") + 1
        red, plain = nvim.funcs.screenattr(row, col), nvim.funcs.screenattr(row, col + 4)
        assert red != plain, "red is drawn in its own colour"
        nvim.input("i")
        wait_for("terminal mode", lambda: nvim.api.get_mode()["mode"] == "t")
        nvim.input("hellx<BS>o<CR>")
        wait_for("the line reached the task", lambda: any(r.startswith("got hello") for r in screen(nvim)))
        # Arrow keys are no part of a line: dropped, not sent as escapes.
        nvim.input("ab<Left>c<CR>")
        wait_for("the second line", lambda: any(r.startswith("got abc") for r in screen(nvim)))
        nvim.input("<C-d>")
        wait_for("its stdin closed, it ended", lambda: any(r.startswith("eof") for r in screen(nvim)))
        wait_for("completed", lambda: '"status": "completed"' in subprocess.run(
            [ERRAND, "show", "--json", task], capture_output=True, text=True).stdout)
    finally:
        nvim.close()
