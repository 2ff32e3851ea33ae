-- The tasks window while tasks move under it: the cursor stays on its task,
-- every task a count refers to can be reached, times tick, the float
-- follows the editor's size and closes when left. Each test in its own
-- Neovim and task store (run.lua).
return function(H)
  local errand = require("errand")
  local state = require("errand.state")

  --- Submit `n` tasks running `command` from a shell loop (the CLI, as a
  --- user's script would); returns when all are submitted.
  local function burst(n, command)
    local loop = ('for i in $(seq %d); do "$E" run %s >/dev/null || exit 1; done'):format(n, command)
    local out = vim.system({ "sh", "-c", loop }, { env = { E = H.bin } }):wait()
    H.eq(out.code, 0, "the burst: " .. (out.stderr or ""))
  end

  --- Three finished tasks named alpha, bravo, charlie; their ids by name.
  local function three()
    local ids = {}
    for _, name in ipairs({ "alpha", "bravo", "charlie" }) do
      errand.run("true", { name = name }, function(t)
        ids[name] = t.id
      end)
      H.popup(vim.log.levels.INFO, "✓ " .. name)
    end
    return ids
  end

  local function open_list(want)
    vim.cmd("Errand list")
    local lines, win
    H.wait("the window shows " .. want, function()
      lines, win = H.float_lines()
      return lines and table.concat(lines, "\n"):find(want)
    end)
    return win
  end

  local function row_of(win, id)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)) do
      if l:find(" " .. id .. "  ", 1, true) then
        return i
      end
    end
  end

  --- The text of a task's row ("" while it is not shown).
  local function line_of(win, id)
    local row = row_of(win, id)
    return row and vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), row - 1, row, false)[1] or ""
  end

  local function id_under_cursor(win)
    local line = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
    return line[vim.api.nvim_win_get_cursor(win)[1]]:match("^  %S+ (%w+)  ")
  end

  local function press(keys)
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "x", false)
  end

  return {
    {
      ":Errand watch: a row with its runs, a save reruns it, <CR> shows its run, c ends it",
      function()
        vim.fn.mkdir("proj", "p")
        vim.fn.writefile({ "one" }, "proj/notes.txt")
        vim.cmd.cd("proj")
        vim.cmd("Errand watch echo checked")
        local popup = H.popup(vim.log.levels.INFO, "watching w%d+ %(1 folders%)")
        local id = popup.msg:match("watching (w%d+)")
        local win = open_list("Watching %(1%)")
        H.wait("its first run", function()
          return line_of(win, id):find("1 run · ✓ completed", 1, true) ~= nil
        end)
        H.truthy(line_of(win, id):find("↻ " .. id .. "  echo checked", 1, true), line_of(win, id))
        vim.fn.writefile({ "two" }, "notes.txt")
        H.wait(function()
          return "a rerun on save: " .. line_of(win, id)
        end, function()
          return line_of(win, id):find("2 runs · ✓ completed", 1, true) ~= nil
        end)
        vim.api.nvim_set_current_win(win)
        vim.api.nvim_win_set_cursor(win, { row_of(win, id), 0 })
        press("<CR>")
        H.wait("its latest run's details", function()
          return table.concat(H.float_lines() or {}, "\n"):find("echo checked", 1, true) ~= nil
            and row_of(win, id) == nil
        end)
        press("<Esc>")
        H.wait("back in the list", function()
          return row_of(win, id) ~= nil
        end)
        vim.api.nvim_win_set_cursor(win, { row_of(win, id), 0 })
        press("c")
        H.wait("the watch ended, its row gone", function()
          return row_of(win, id) == nil and not table.concat(H.float_lines() or {}, "\n"):find("Watching")
        end)
        local ls = H.cli({ "ls" })
        H.eq(ls:find(id .. "  watching", 1, true), nil, "ended for the CLI too: " .. ls)
        -- :Errand cancel takes a watch's id too.
        H.popups = {}
        vim.cmd("Errand watch echo again")
        local again = H.popup(vim.log.levels.INFO, "watching w%d+").msg:match("watching (w%d+)")
        H.wait("listed", function()
          return #require("errand.watches").list == 1
        end)
        vim.cmd("Errand cancel " .. again)
        H.wait("ended by :Errand cancel", function()
          return #require("errand.watches").list == 0
        end)
      end,
    },

    {
      "the cursor stays on its task while 2,000 tasks arrive; d deletes that task",
      function()
        local ids = three()
        local win = open_list("charlie")
        vim.api.nvim_win_set_cursor(win, { row_of(win, ids.bravo), 0 })
        burst(2000, "true")
        H.wait("2,000 more in the window", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("Completed %(2003%)") and state.counts.running + state.counts.queued == 0
        end, 90000)
        H.eq(id_under_cursor(win), ids.bravo, "the task under the cursor")
        press("d")
        H.wait("bravo deleted", function()
          return H.task(ids.bravo).deletedAt ~= nil
        end)
        H.eq(H.task(ids.charlie).deletedAt, nil, "charlie is not")
        H.eq(H.task(ids.alpha).deletedAt, nil, "alpha is not")
        H.eq(vim.bo[vim.api.nvim_win_get_buf(win)].undolevels, -1, "no undo history for a redrawn list")
      end,
    },

    {
      "every failure the statusline counts can be reached: more rows, then x clears them all",
      function()
        burst(230, "false")
        H.wait("230 failed", function()
          return errand.status() == "230 failed"
        end, 30000)
        local win = open_list("Failed %(200%+%)")
        local more = nil
        H.wait("a more row", function()
          for i, l in ipairs(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)) do
            if l:find("more") then
              more = i
              return true
            end
          end
        end)
        vim.api.nvim_win_set_cursor(win, { more, 0 })
        press("<CR>")
        H.wait("all 230 loaded", function()
          return table.concat(H.float_lines(), "\n"):find("Failed %(230%)")
        end)
        press("x")
        H.wait("the statusline cleared", function()
          return errand.status() == ""
        end)
      end,
    },

    {
      "running durations and relative times tick; the float follows the editor's size and closes when left",
      function()
        errand.run("sleep 100", { name = "long" })
        H.wait("running", function()
          return errand.status() == "1 running"
        end)
        local win = open_list("long")
        local function long_row()
          for _, l in ipairs(H.float_lines()) do
            if l:find("long") then
              return l
            end
          end
        end
        local function took(row)
          return tonumber(row:match("ago%s+(%d+%.%d)s"))
        end
        local first = long_row()
        H.wait("the running row changes by itself", function()
          local now = long_row()
          return now:find("1s ago") and took(now) and took(now) >= 1 and took(now) > (took(first) or 0)
        end, 5000)
        vim.o.columns = 160
        vim.cmd("doautocmd VimResized")
        H.wait("a wider float", function()
          return vim.api.nvim_win_get_width(win) == math.floor(160 * 0.8)
        end)
        vim.cmd("wincmd p")
        H.wait("closed when left", function()
          return not vim.api.nvim_win_is_valid(win)
        end)
      end,
    },

    {
      "details opened while a task runs show its last lines once it ends",
      function()
        local task
        -- Output the command line itself does not hold: $((...)) expands.
        local command = "echo $((1+1))-first; until [ -e go ]; do sleep 0.01; done; echo $((6*7))-last"
        errand.run(command, { name = "gated" }, function(t)
          task = t
        end)
        H.wait("it runs", function()
          return task and state.by_id[task.id].status == "running"
        end)
        local win = open_list("gated")
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("<CR>")
        H.wait("details with the first line", function()
          return table.concat(H.float_lines(), "\n"):find("\n2%-first")
        end)
        vim.fn.writefile({}, "go")
        H.wait("the last line and the end", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("\n42%-last") and text:find("exit code  0")
        end, 5000)
      end,
    },

    {
      "s pauses the task under the cursor (it stops ticking, the row says paused) and resumes it",
      function()
        local task
        errand.run("i=0; while :; do i=$((i+1)); echo $i > tick; sleep 0.05; done", { name = "ticker" }, function(t)
          task = t
        end)
        local function ticks()
          return tonumber((vim.fn.readfile("tick")[1] or "0")) or 0
        end
        H.wait("it ticks", function()
          return vim.fn.filereadable("tick") == 1 and ticks() > 2
        end)
        local win = open_list("ticker")
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("s")
        H.wait("the row says paused", function()
          local line = line_of(win, task.id)
          return line:find("‖ " .. task.id, 1, true) and line:find("paused", 1, true)
        end)
        vim.wait(150)
        local at = ticks()
        vim.wait(400)
        H.eq(ticks(), at, "it does not run while paused")
        H.truthy(H.cli({ "show", task.id }):find("errand resume " .. task.id, 1, true), "the CLI sees it paused")
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("s")
        H.wait("it ticks again", function()
          return ticks() > at + 2
        end)
        H.wait("the row no longer says paused", function()
          local line = line_of(win, task.id)
          return not line:find("paused", 1, true)
        end)
        errand.cancel(task.id)
      end,
    },

    {
      "details show the JSON result a task left, indented, and why one was not kept",
      function()
        local task, bad
        local command = [[echo '{"version": "1.4.2", "files": [1, 2], "ok": true, "name": "café"}' > "$ERRAND_RESULT"]]
        errand.run(command, { name = "versioned" }, function(t)
          task = t
        end)
        errand.run([[echo '{"a":' > "$ERRAND_RESULT"]], { name = "broken" }, function(t)
          bad = t
        end)
        H.popup(vim.log.levels.INFO, "✓ versioned")
        H.popup(vim.log.levels.INFO, "✓ broken")
        local win = open_list("broken")
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("<CR>")
        H.wait("the result, indented, keys sorted", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find(
            '── result ──\n{\n  "files": %[\n    1,\n    2\n  %],\n  "name": "café",\n  "ok": true,\n  "version": "1.4.2"\n}',
            1
          )
        end)
        press("<Esc>")
        H.wait("the list", function()
          return row_of(win, bad.id)
        end)
        vim.api.nvim_win_set_cursor(win, { row_of(win, bad.id), 0 })
        press("<CR>")
        H.wait("why the result was not kept", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("result  none kept: the result is not one JSON value", 1, true)
            and not text:find("── result ──", 1, true)
        end)
      end,
    },

    {
      "filters: text (searched by the server too), unread only, one group; the title says which",
      function()
        for _, name in ipairs({ "alpha build", "beta test", "gamma build" }) do
          errand.run("true", { name = name })
          H.popup(vim.log.levels.INFO, "✓ " .. name)
        end
        H.cli({ "logs", H.cli({ "ls", "-n", "1", "--json" }):match('"id": "(%w+)"') }) -- gamma read at the shell
        local win = open_list("gamma build")
        vim.ui.input = function(opts, cb)
          H.eq(opts.prompt, "Filter tasks: ", "the prompt")
          cb("BUILD")
        end
        press("/")
        H.eq(vim.v.errmsg, "", "no error")
        H.wait("only the builds", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("alpha build") and text:find("gamma build") and not text:find("beta test")
        end)
        H.truthy(vim.api.nvim_win_get_config(win).title[1][1]:find("“BUILD”"), "the title names the filter")
        press("u")
        H.wait("unread builds only", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("alpha build") and not text:find("gamma build")
        end)
        local picked
        vim.ui.select = function(items, opts, cb)
          H.eq(opts.kind, "errand.group", "a kind for pickers")
          picked = items
          cb(items[1], 1)
        end
        press("p")
        H.eq(picked and picked[1], "(all groups)", "the group picker opened, all groups first")
        press("u")
        vim.ui.input = function(_, cb)
          cb("")
        end
        press("/")
        H.wait("all again", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("alpha build") and text:find("gamma build") and text:find("beta test")
        end)
      end,
    },

    {
      "one group shown: the title counts it against the group's own limit and follows it",
      function()
        vim.fn.mkdir(os.getenv("ERRAND_HOME"), "p")
        vim.fn.writefile({ "[groups.deploy]", "parallel = 1" }, os.getenv("ERRAND_HOME") .. "/config.toml")
        local gate = vim.fn.getcwd() .. "/go"
        local ids = {}
        for i = 1, 3 do
          errand.run(
            ("until [ -e %s ]; do sleep 0.02; done"):format(gate),
            { name = "deploy " .. i, group = "deploy" },
            function(t)
              ids[i] = t.id
            end
          )
        end
        errand.run("sleep 100", { name = "other" })
        local win = open_list("deploy 3")
        vim.ui.select = function(items, _, cb)
          for i, item in ipairs(items) do
            if item == "deploy" then
              return cb(item, i)
            end
          end
          error("no deploy group in " .. vim.inspect(items))
        end
        press("p")
        local function title()
          return vim.api.nvim_win_get_config(win).title[1][1]
        end
        H.wait("the group counts against its limit", function()
          return title():find("group deploy · 1/1 running · 2 queued", 1, true)
        end)
        H.wait("only the group's tasks listed", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("deploy 1") and not text:find("other")
        end)
        vim.fn.writefile({}, gate)
        H.wait("the title follows the group to its end", function()
          return title() == " errand · group deploy · 0/1 running "
        end)
        for _, id in ipairs(ids) do
          H.eq(H.task(id).status, "completed", "each deploy ran")
        end
      end,
    },

    {
      "keys are configurable and every action is a <Plug> mapping; ? lists the keys in the window",
      function()
        errand.setup({ binary = H.bin, window = { keys = { cancel = "C", delete = false } } })
        local task
        errand.run("sleep 100", { name = "long" }, function(t)
          task = t
        end)
        H.wait("running", function()
          return task and state.by_id[task.id] and state.by_id[task.id].status == "running"
        end)
        local win = open_list("long")
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        local buf = vim.api.nvim_win_get_buf(win)
        H.eq(vim.fn.maparg("d", "n", false, true).buffer, nil, "d is unmapped")
        H.truthy(vim.fn.hasmapto("<Plug>(errand-delete)", "n") == 0, "nothing maps to delete")
        H.truthy(#vim.api.nvim_buf_get_keymap(buf, "n") > 0, "buffer keys")
        press("?")
        H.wait("the keys in the window", function()
          local text = table.concat(H.float_lines(), "\n")
          return text:find("\nC%s+cancel") and text:find("\n%-%s+delete")
        end)
        press("<Esc>")
        H.wait("the list again", function()
          return table.concat(H.float_lines(), "\n"):find("Running %(1%)")
        end)
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("C")
        H.wait("cancelled by C", function()
          return H.task(task.id).status == "cancelled"
        end)
        local ok, err = pcall(errand.setup, { window = { keys = { cancle = "x" } } })
        H.eq(ok, false, "an unknown action is refused")
        H.truthy(tostring(err):find("cancle"), tostring(err))
        ok, err = pcall(errand.setup, { window = { keys = { cancel = true } } })
        H.eq(ok, false, "true is not a key")
        H.truthy(tostring(err):find("window.keys.cancel"), tostring(err))
      end,
    },

    {
      "progress and ETA in the window, the details and status({ progress = true }); the lualine component",
      function()
        local task
        local script = '"$ERRAND_BIN" progress 40 compiling; until [ -e go ]; do sleep 0.01; done'
        errand.run(script, { name = "half way" }, function(t)
          task = t
        end)
        H.wait("40% in the statusline", function()
          return errand.status({ progress = true }):find("^1 running 40%% · [%d.ms]+ left$")
        end)
        H.eq(errand.status(), "1 running", "the plain statusline")
        local win = open_list("half way")
        H.wait("the row", function()
          local row = vim.api.nvim_buf_get_lines(
            vim.api.nvim_win_get_buf(win),
            row_of(win, task.id) - 1,
            row_of(win, task.id),
            false
          )[1]
          return row:find("40%% · [%d.ms]+ left")
        end)
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("<CR>")
        H.wait("the details", function()
          return table.concat(H.float_lines(), "\n"):find("progress  40%% · [%d.ms]+ left  compiling")
        end)
        -- lualine cannot be installed here: a stand-in with lualine's
        -- component API (extend, super.init, options, update_status).
        package.preload["lualine.component"] = function()
          local Base = {}
          Base.__index = Base
          function Base:extend()
            local cls = setmetatable({}, { __index = self })
            cls.__index, cls.super = cls, self
            return cls
          end
          function Base:init(options)
            self.options = options
          end
          function Base:new(options)
            local o = setmetatable({}, self)
            o:init(options)
            return o
          end
          return Base
        end
        local component = require("lualine.components.errand")
        H.eq(component:new({}):update_status(), "1 running", "the component")
        local shown = component:new({ progress = true }):update_status()
        -- As lualine puts it into the statusline: "%" doubled, or E539.
        local drawn = vim.api.nvim_eval_statusline(shown, {}).str
        H.truthy(drawn:find("^1 running 40%% · "), "drawn: " .. drawn)
        vim.fn.writefile({}, "go")
      end,
    },

    {
      "lang = zh: the window, details, help, popups and messages in Chinese, every key of English translated",
      function()
        local messages = require("errand.messages")
        for key in pairs(messages.languages.en) do
          H.truthy(messages.languages.zh[key], "zh lacks " .. key)
        end
        errand.setup({ binary = H.bin, lang = "zh" })
        local task
        errand.run("sleep 100", { name = "长任务" }, function(t)
          task = t
        end)
        H.wait("running", function()
          return task and state.by_id[task.id] and state.by_id[task.id].status == "running"
        end)
        local win = open_list("运行中 %(1%)")
        local text = table.concat(H.float_lines(), "\n")
        H.truthy(text:find("已完成 %(0%)") and text:find("\n%? 帮助"), text)
        vim.api.nvim_win_set_cursor(win, { row_of(win, task.id), 0 })
        press("<CR>")
        H.wait("details", function()
          local l = H.float_lines()
          -- Labels right-aligned by screen cells: the values line up.
          return l[1]:find("^        状态  ● 运行中$") and l[2]:find("^        名称  长任务$")
        end)
        press("<Esc>")
        press("?")
        H.wait("help", function()
          return table.concat(H.float_lines(), "\n"):find("errand 任务窗口")
        end)
        press("q")
        H.eq(errand.status(), "1 运行中", "the statusline")
        errand.cancel(task.id)
        H.popup(vim.log.levels.WARN, "长任务 已取消")
        local ok, err = pcall(errand.setup, { lang = "fr" })
        H.eq(ok, false, "an unknown language is refused")
        H.truthy(tostring(err):find("lang"), tostring(err))
      end,
    },

    {
      "back from details far down the list: the cursor is on the same task; gg still goes to the top",
      function()
        burst(40, "true")
        H.cli({ "wait", "--all" })
        local win = open_list("Completed %(40%)")
        local buf = vim.api.nvim_win_get_buf(win)
        local far = vim.api.nvim_buf_line_count(buf) - 4
        vim.api.nvim_win_set_cursor(win, { far, 0 })
        local id = id_under_cursor(win)
        H.truthy(id, "a task row at line " .. far)
        press("<CR>")
        H.wait("details", function()
          return table.concat(H.float_lines(), "\n"):find("exit code  0")
        end)
        press("<Esc>")
        H.wait("the list", function()
          return table.concat(H.float_lines(), "\n"):find("Completed %(40%)")
        end)
        H.eq(id_under_cursor(win), id, "the same task")
        press("gg")
        H.eq(vim.api.nvim_win_get_cursor(win)[1], 1, "gg")
      end,
    },

    {
      "setup: notify = false silences every popup without errors; unknown options are refused",
      function()
        errand.setup({ binary = H.bin, notify = false })
        vim.v.errmsg = ""
        local done
        errand.run("true", { name = "quiet" }, function(t)
          done = t
        end)
        errand.run("exit 2", { name = "quiet failure" })
        H.wait("both ended", function()
          return done and state.counts.running + state.counts.queued == 0 and errand.status() == "1 failed"
        end)
        H.eq(#H.popups, 0, "no popup: " .. vim.inspect(H.popups))
        H.eq(vim.v.errmsg, "", "no error")
        H.truthy(not vim.fn.execute("messages"):find("rror"), vim.fn.execute("messages"))
        local ok, err = pcall(errand.setup, { notfy = false })
        H.eq(ok, false, "a misspelt option is refused")
        H.truthy(tostring(err):find("notfy"), tostring(err))
      end,
    },
  }
end
