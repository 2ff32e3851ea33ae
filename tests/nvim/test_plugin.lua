-- The plugin against the real errand binary, in a real Neovim; each test in
-- a Neovim and a task store of its own (run.lua).
return function(H)
  local errand = require("errand")
  local client = require("errand.client")
  local state = require("errand.state")

  return {
    {
      "run: a popup on finish and the statusline goes 1 running -> empty",
      function()
        H.eq(errand.status(), "", "idle statusline")
        local events = 0
        vim.api.nvim_create_autocmd("User", {
          pattern = "ErrandStatus",
          callback = function()
            events = events + 1
          end,
        })
        vim.cmd("Errand run until [ -e go ]; do sleep 0.01; done; echo hi")
        H.wait("1 running", function()
          return errand.status() == "1 running"
        end)
        vim.fn.writefile({}, "go")
        local p = H.popup(vim.log.levels.INFO, "^✓ until %[ %-e go %]; do sleep 0%.01; done; echo hi %(")
        H.truthy(p.msg:find("%(%d+%.%ds%)"), "duration in the popup: " .. p.msg)
        H.wait("statusline empty", function()
          return errand.status() == ""
        end)
        H.truthy(events >= 2, "User ErrandStatus fired")
      end,
    },

    {
      "a failure: ERROR popup with exit code and output; 1 failed; :Errand clear",
      function()
        vim.cmd("Errand run echo first; echo boom >&2; exit 3")
        local p = H.popup(vim.log.levels.ERROR, "✗ .*%(exit 3%)")
        H.truthy(p.msg:find("boom"), "the last lines of output: " .. p.msg)
        H.wait("1 failed", function()
          return errand.status() == "1 failed"
        end)
        vim.cmd("Errand clear")
        H.wait("cleared", function()
          return errand.status() == ""
        end)
      end,
    },

    {
      "a cancel shows a WARN popup",
      function()
        local task
        errand.run("sleep 100", {}, function(t)
          task = t
        end)
        H.wait("started", function()
          return task and errand.status() == "1 running"
        end)
        vim.cmd("Errand cancel " .. task.id)
        H.popup(vim.log.levels.WARN, "⊘ sleep 100 cancelled")
      end,
    },

    {
      "tasks window: sections, c cancels, r restarts, <CR> details",
      function()
        local done, long
        errand.run("echo finished-one", { name = "quick" }, function(t)
          done = t
        end)
        H.popup(vim.log.levels.INFO, "✓ quick")
        errand.run("sleep 100", { name = "long" }, function(t)
          long = t
        end)
        H.wait("long runs", function()
          return long and state.by_id[long.id] and state.by_id[long.id].status == "running"
        end)
        vim.cmd("Errand list")
        local lines, win
        H.wait("window rows", function()
          lines, win = H.float_lines()
          local text = lines and table.concat(lines, "\n") or ""
          return text:find("long") and text:find("quick")
        end)
        local text = table.concat(lines, "\n")
        H.truthy(text:find("Running %(1%)"), "Running section: " .. text)
        H.truthy(text:find("Completed %(1%)"), "Completed section")
        H.truthy(text:find("Queued %(0%)"), "Queued section")
        H.truthy(text:find("Failed %(0%)"), "Failed section")
        local function row_of(id)
          for i, l in ipairs(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)) do
            if l:find(id, 1, true) then
              return i
            end
          end
        end
        -- <CR>: details of the finished task.
        vim.api.nvim_win_set_cursor(win, { row_of(done.id), 0 })
        vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
        H.wait("details", function()
          local l = H.float_lines()
          local t = l and table.concat(l, "\n") or ""
          return t:find("command  echo finished%-one") and t:find("finished%-one\n") and t:find("exit code  0")
        end)
        vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<Esc>", true, false, true), "x", false)
        H.wait("back to the list", function()
          return table.concat(H.float_lines(), "\n"):find("Running %(")
        end)
        -- c on the running task: cancelled, its process gone.
        local pid
        H.wait("pid", function()
          pid = H.task(long.id).pid
          return pid ~= nil
        end)
        vim.api.nvim_win_set_cursor(win, { row_of(long.id), 0 })
        vim.api.nvim_feedkeys("c", "x", false)
        H.wait("cancelled in the window", function()
          local t = table.concat(H.float_lines(), "\n")
          local section = t:find("Cancelled %(")
          return state.by_id[long.id].status == "cancelled" and section and t:find(long.id, section, true)
        end)
        H.wait("process gone", function()
          return vim.uv.kill(pid, 0) ~= 0
        end)
        -- r on the finished task: a new task restarted from it.
        vim.api.nvim_win_set_cursor(win, { row_of(done.id), 0 })
        vim.api.nvim_feedkeys("r", "x", false)
        local restarted
        H.wait("restarted", function()
          for _, t in pairs(state.by_id) do
            if t.restartedFrom == done.id then
              restarted = t
              return true
            end
          end
        end)
        H.eq(restarted.name, "quick", "same name")
        vim.api.nvim_feedkeys("q", "x", false)
        H.wait("closed", function()
          return H.float_lines() == nil
        end)
      end,
    },

    {
      "#workflow from errand.toml, and its completion",
      function()
        vim.fn.writefile({ 'hello = "echo hello from the workflow"', 'build = "true"' }, "errand.toml")
        local items = vim.fn.getcompletion("Errand #", "cmdline")
        H.eq(items, { "#build", "#hello" }, "workflow completion")
        H.eq(vim.fn.getcompletion("Errand ca", "cmdline"), { "cancel" }, "subcommand completion")
        vim.cmd("Errand #hello")
        H.popup(vim.log.levels.INFO, "✓ hello")
        vim.cmd("Errand #helo")
        H.popup(vim.log.levels.ERROR, "no workflow named 'helo' %(did you mean 'hello'%?%)")
      end,
    },

    {
      "tasks the project defines for its tools: completed, run, and refused with the reason",
      function()
        vim.fn.writefile({ "hello:", "\t@echo hello from make" }, "Makefile")
        vim.fn.writefile({ '{ "scripts": { "lint": "eslint ." } }' }, "package.json")
        vim.fn.mkdir(".vscode", "p")
        vim.fn.writefile({
          '{ "version": "2.0.0", "tasks": [',
          '  { "label": "Lint file", "type": "shell", "command": "eslint ${file}" },',
          "] }",
        }, ".vscode/tasks.json")
        local items = vim.fn.getcompletion("Errand #", "cmdline")
        H.eq(items, { "#make:hello", "#npm:lint", "#vscode:Lint file" }, "detected tasks in completion")
        H.eq(vim.fn.getcompletion("Errand #ma", "cmdline"), { "#make:hello" }, "by prefix")
        vim.cmd("Errand #make:hello")
        H.popup(vim.log.levels.INFO, "✓ make:hello")
        vim.cmd("Errand #vscode:Lint file")
        H.popup(vim.log.levels.ERROR, "#vscode:Lint file cannot run here: it uses ${file}")
      end,
    },

    {
      ":Errand qf loads a failed build's messages into the quickfix list; on_failure does it by itself",
      function()
        vim.fn.writefile({ "int main(void) {", "  return missing;", "}" }, "main.c")
        vim.cmd("Errand run gcc -c main.c -o /dev/null")
        H.popup(vim.log.levels.ERROR, "✗ gcc %-c main%.c")
        vim.cmd("Errand qf")
        H.wait("the quickfix list", function()
          return #vim.fn.getqflist() > 0
        end)
        local items = vim.fn.getqflist()
        local first = items[1]
        H.eq(vim.api.nvim_buf_get_name(first.bufnr), vim.fn.getcwd() .. "/main.c", "file")
        H.eq({ first.lnum, first.col, first.type }, { 2, 10, "E" }, "place and kind")
        H.truthy(first.text:find("missing"), first.text)
        H.truthy(
          vim.fn.getqflist({ title = 1 }).title:find("^errand: gcc %-c main%.c %-o /dev/null %(%w+%)$"),
          "title names the task"
        )
        H.eq(vim.bo.buftype, "quickfix", "the quickfix window opened")
        vim.cmd("cclose")
        -- Nothing to load: a popup says so, and the list stays.
        vim.cmd("Errand run echo fine; exit 2")
        local fine = H.popup(vim.log.levels.ERROR, "✗ echo fine").msg:match("· (%w+)")
        vim.cmd("Errand qf " .. fine)
        H.popup(vim.log.levels.INFO, "no compiler or linter messages in the output of echo fine")
        H.eq(#vim.fn.getqflist(), #items, "the list is kept")
        -- Filled when a task fails, by config.
        errand.setup({ binary = H.bin, quickfix = { on_failure = true, open = false } })
        vim.fn.writefile({ 'x.py:1: error: Name "y" is not defined  [name-defined]' }, "mypy.txt")
        vim.fn.writefile({ "y" }, "x.py")
        vim.cmd("Errand run cat mypy.txt; exit 1")
        H.wait("filled on failure", function()
          local list = vim.fn.getqflist()
          return #list == 1 and list[1].text == 'Name "y" is not defined [name-defined]'
        end)
        H.eq(vim.bo.buftype, "", "not opened (open = false)")
      end,
    },

    {
      "a finished task's messages go to vim.diagnostic in its own namespace, cleared when it runs again",
      function()
        vim.fn.writefile({ "int main(void) {", "  int unused;", "  return missing;", "}" }, "main.c")
        local build = "gcc -Wall -c main.c -o /dev/null"
        vim.cmd("Errand run " .. build)
        H.popup(vim.log.levels.ERROR, "✗ gcc %-Wall")
        local ns = require("errand.diagnostics").namespace(build)
        local buf = vim.fn.bufadd(vim.fn.getcwd() .. "/main.c")
        H.wait("published", function()
          return #vim.diagnostic.get(buf, { namespace = ns }) == 3
        end)
        local got = vim.diagnostic.get(buf, { namespace = ns })
        table.sort(got, function(a, b)
          return a.lnum < b.lnum or (a.lnum == b.lnum and a.severity < b.severity)
        end)
        local S = vim.diagnostic.severity
        H.eq(
          vim.tbl_map(function(d)
            return { d.lnum, d.col, d.severity, d.source }
          end, got),
          { { 1, 6, S.WARN, "errand: gcc" }, { 2, 9, S.ERROR, "errand: gcc" }, { 2, 9, S.INFO, "errand: gcc" } },
          "0-based places, severities"
        )
        H.eq(got[1].code, "-Wunused-variable", "the warning's flag")
        -- Fixed and run again under the same name: cleared at its start, none after.
        vim.fn.writefile({ "int main(void) {", "  return 0;", "}" }, "main.c")
        vim.cmd("Errand run " .. build)
        -- Its start cleared them before its end popped up; it ended with none.
        H.popup(vim.log.levels.INFO, "✓ gcc %-Wall")
        H.eq(#vim.diagnostic.get(buf, { namespace = ns }), 0, "cleared")
        -- Off by config: nothing is published.
        errand.setup({ binary = H.bin, diagnostics = { publish = false } })
        vim.fn.writefile({ "int main(void) {", "  return missing;", "}" }, "main.c")
        H.popups = {}
        vim.cmd("Errand run " .. build)
        -- The same handler that popped up decided not to ask for them.
        H.popup(vim.log.levels.ERROR, "✗ gcc %-Wall")
        H.eq(#vim.diagnostic.get(buf, { namespace = ns }), 0, "publish = false")
      end,
    },

    {
      "tsc --watch: each compile cycle's messages replace the last in vim.diagnostic and a quickfix list loaded from it; a new server catches up",
      function()
        -- The real tsc, from the extension's npm packages (tests/run-all.sh installs them first).
        local tsc = H.root .. "/plugin/vscode/node_modules/typescript/bin/tsc"
        H.truthy(vim.uv.fs_stat(tsc), "npm installed typescript: " .. tsc)
        vim.fn.mkdir("src", "p")
        vim.fn.writefile(
          { '{"compilerOptions": {"strict": true, "noEmit": true}, "include": ["src"]}' },
          "tsconfig.json"
        )
        vim.fn.writefile({ 'export const a: string = "x";' }, "src/a.ts")
        local task
        errand.run(("node %s --watch -p ."):format(tsc), { name = "tsc watch" }, function(t)
          task = t
        end)
        local ns = require("errand.diagnostics").namespace("tsc watch")
        local buf = vim.fn.bufadd(vim.fn.getcwd() .. "/src/a.ts")
        local function errors()
          return vim.tbl_map(function(d)
            return { d.lnum, d.col, d.code }
          end, vim.diagnostic.get(buf, { namespace = ns }))
        end
        H.wait("the first, clean cycle", function()
          return task and (require("errand.state").by_id[task.id] or {}).diagnostics ~= nil
        end, 60000)
        H.eq(errors(), {}, "clean")
        vim.fn.writefile({ "export const a: string = 1;" }, "src/a.ts")
        H.wait("the error, while tsc runs", function()
          return #errors() == 1
        end, 20000)
        H.eq(errors(), { { 0, 13, "TS2322" } }, "place and code")
        -- A server killed mid-watch: the next one's client catches up with the last cycle.
        vim.diagnostic.reset(ns)
        vim.uv.kill(require("errand.state").server.pid, "sigkill")
        require("errand.client").ensure()
        H.wait("caught up after a restart", function()
          return #errors() == 1
        end)
        vim.cmd("Errand qf " .. task.id)
        H.wait("the quickfix list", function()
          return #vim.fn.getqflist() == 1
        end)
        vim.cmd("cclose")
        vim.fn.writefile({ 'export const a: string = "y";' }, "src/a.ts")
        H.wait("the fix clears both", function()
          return #errors() == 0 and #vim.fn.getqflist() == 0
        end, 20000)
        H.truthy(vim.fn.getqflist({ title = 1 }).title:find("tsc watch", 1, true), "the same list, updated in place")
        H.cli({ "cancel", task.id })
      end,
    },

    {
      "a task past its timeout pops up as timed out, in the user's language",
      function()
        errand.run("sleep 30", { name = "slow", timeout_ms = 200 })
        local popup = H.popup(vim.log.levels.ERROR, "✗ slow %(timed out after 0%.2s%)")
        H.eq(select(2, popup.msg:gsub("timed out", "")), 1, "said once: " .. popup.msg)
        errand.setup({ binary = H.bin, lang = "zh" })
        errand.run("sleep 30", { name = "slow2", timeout_ms = 1500 })
        H.popup(vim.log.levels.ERROR, "✗ slow2 %(超时（1%.5s）%)")
      end,
    },

    {
      "a task that retries pops up once, for its last run; its details list the failed runs",
      function()
        local flaky = "n=$(($(cat runs 2>/dev/null || echo 0) + 1)); echo $n > runs; [ $n -ge 3 ] || exit 7"
        local task
        errand.run(flaky, { name = "flaky", retry = 2 }, function(t)
          task = t
        end)
        H.popup(vim.log.levels.INFO, "✓ flaky")
        local said = vim.tbl_filter(function(p)
          return p.msg:find("flaky", 1, true) ~= nil
        end, H.popups)
        H.eq(#said, 1, "one popup, for the run that passed")
        local text = table.concat(require("errand.ui.details").render(H.task(task.id), ""), "\n")
        H.eq(text:find("runs  3 of up to 3", 1, true) ~= nil, true, text)
        H.eq(text:find("failed run  1: exit 7", 1, true) ~= nil, true, text)
        H.eq(text:find("failed run  2: exit 7", 1, true) ~= nil, true, text)
      end,
    },

    {
      "output buffer follows a running task",
      function()
        local task
        -- The task waits after its first line until the test has seen it.
        local script = "echo line 1; until [ -e go ]; do sleep 0.01; done; echo line 2; echo line 3"
        errand.run(script, { name = "lines" }, function(t)
          task = t
        end)
        H.wait("queued", function()
          return task ~= nil
        end)
        vim.cmd("Errand output " .. task.id)
        H.wait("the output window", function()
          return vim.api.nvim_buf_get_name(0) == "errand://" .. task.id
        end)
        local buf = vim.api.nvim_get_current_buf()
        -- A terminal buffer: the rows below the output are empty.
        local function text()
          return vim.trim(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"))
        end
        H.wait("the first line, while the task runs", function()
          return text() == "line 1"
        end)
        vim.fn.writefile({}, "go")
        H.wait("all lines", function()
          return text() == "line 1\nline 2\nline 3"
        end)
      end,
    },

    {
      "server killed mid-session: pending requests fail, the next command restarts it",
      function()
        client.ensure()
        H.wait("server up", function()
          return client.is_running() and state.server ~= nil
        end)
        local old = state.server.pid
        -- Stopped first, so the request is surely still pending when it dies.
        vim.uv.kill(old, "sigstop")
        local got_err
        client.request("task/counts", {}, function(err)
          got_err = err or false
        end)
        vim.uv.kill(old, "sigkill")
        H.wait("the pending callback is called", function()
          return got_err ~= nil
        end)
        H.truthy(got_err, "the callback got an error, not a result")
        errand.run("echo back again", { name = "after restart" })
        H.popup(vim.log.levels.INFO, "✓ after restart")
        H.truthy(state.server.pid ~= old, "a new server")
      end,
    },

    {
      ":checkhealth errand",
      function()
        vim.cmd("checkhealth errand")
        local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
        H.truthy(text:find("OK binary:"), text)
        H.truthy(text:find("OK server: errand"), text)
        H.truthy(text:find("OK task store writable"), text)
      end,
    },

    {
      ":help errand has the tags",
      function()
        vim.cmd("helptags " .. H.root .. "/plugin/nvim/doc")
        local tags = {
          "errand",
          ":Errand",
          "errand-keys",
          "errand-window-keys",
          "errand-<Plug>",
          "errand-statusline",
          "errand-configuration",
          "errand-highlights",
          "User_ErrandStatus",
        }
        -- Every function of the API, every option and every highlight group.
        for name, value in pairs(errand) do
          if type(value) == "function" then
            table.insert(tags, "errand." .. name .. "()")
          end
        end
        for option in pairs(require("errand.config").defaults) do
          table.insert(tags, "errand-option-" .. option)
        end
        require("errand.highlights").define()
        for _, group in ipairs(vim.fn.getcompletion("Errand", "highlight")) do
          table.insert(tags, group)
        end
        H.truthy(#tags > 25, "the API, options and groups were found: " .. #tags)
        for _, tag in ipairs(tags) do
          local ok, err = pcall(vim.cmd, "help " .. vim.fn.escape(tag, " "))
          H.truthy(ok, "no help for " .. tag .. ": " .. tostring(err))
          vim.cmd("close")
        end
      end,
    },

    {
      "setup() names a wrong option",
      function()
        local ok, err = pcall(errand.setup, { notify = { failure_lines = "five" } })
        H.eq(ok, false, "refused")
        H.truthy(tostring(err):find("notify.failure_lines"), tostring(err))
        ok = pcall(errand.setup, { window = { width = 0.5 } })
        H.truthy(ok, "a right one is taken")
      end,
    },
  }
end
