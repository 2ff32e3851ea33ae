-- The output buffer against the real errand binary: it survives the server
-- dying mid-follow, and live output keeps every character whole.
return function(H)
  local errand = require("errand")
  local client = require("errand.client")
  local state = require("errand.state")

  --- A terminal buffer's lines, without the empty ones below the output.
  local function lines(buf)
    local all = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    while #all > 0 and all[#all] == "" do
      table.remove(all)
    end
    return all
  end

  --- Open `id`'s output with `cmd` (":Errand output ID" by default); its buffer.
  local function open(id, cmd)
    vim.cmd(cmd or ("Errand output " .. id))
    H.wait("the output window", function()
      return vim.api.nvim_buf_get_name(0) == "errand://" .. id
    end)
    return vim.api.nvim_get_current_buf()
  end

  local function run(script)
    local task
    errand.run(script, { name = "output" }, function(t)
      task = t
    end)
    H.wait("queued", function()
      return task ~= nil
    end)
    return task, open(task.id)
  end

  return {
    {
      "a server killed mid-follow: the buffer catches up and follows again",
      function()
        local _, buf = run(
          "echo one; until [ -e a ]; do sleep 0.01; done; echo two; until [ -e b ]; do sleep 0.01; done; echo three"
        )
        H.wait("the first line", function()
          return vim.deep_equal(lines(buf), { "one" })
        end)
        local old = state.server.pid
        vim.uv.kill(old, "sigkill")
        vim.fn.writefile({}, "a") -- written while no server runs
        H.wait("a new server, and what was written meanwhile", function()
          return state.server and state.server.pid ~= old and vim.deep_equal(lines(buf), { "one", "two" })
        end)
        H.truthy(client.is_running(), "restarted on its own")
        vim.fn.writefile({}, "b")
        H.wait("and it follows again", function()
          return vim.deep_equal(lines(buf), { "one", "two", "three" })
        end)
      end,
    },

    {
      "a character written in two halves arrives whole",
      function()
        local _, buf = run([[printf 'pr\342\202'; until [ -e go ]; do sleep 0.01; done; printf '\254 €\n']])
        H.wait("the first half is held back", function()
          return vim.deep_equal(lines(buf), { "pr" })
        end)
        vim.fn.writefile({}, "go")
        H.wait("the whole character", function()
          return vim.deep_equal(lines(buf), { "pr€ €" })
        end)
      end,
    },

    {
      "a terminal: \\r redraws the line, colour codes are not shown as text (typing: test_screen.py)",
      function()
        local _, buf = run([[printf 'step 1%%\rstep 99%%\n\033[31mred\033[0m plain\n']])
        H.eq(vim.bo[buf].buftype, "terminal", "a terminal buffer")
        H.wait("the rendered output", function()
          return vim.deep_equal(lines(buf), { "step 99%", "red plain" })
        end)
      end,
    },

    {
      "output faster than the terminal: a grey line says it skips, the newest shows, the window keeps the end in view",
      function()
        -- 30 MB written in one go (cat of a file) once the buffer follows;
        -- long lines, so what follows the notice fits the scrollback.
        local task, buf = run("seq -f '%0100g' 1 300000 > big; until [ -e go ]; do sleep 0.01; done; cat big; echo fin")
        H.wait("following", function()
          return client.is_running() and require("errand.state").output_listeners[task.id] ~= nil
        end)
        -- The notice is looked for as lines arrive: the output after the
        -- last skip (up to LAG, 40,000 lines here) can push it out of the
        -- terminal's scrollback by the end, as it would on a user's screen.
        local said = false
        local notice = "[errand] too fast to show: skipping to the newest (errand logs " .. task.id .. " has all)"
        vim.api.nvim_buf_attach(buf, false, {
          on_lines = function(_, b, _, first, _, last)
            for _, l in ipairs(vim.api.nvim_buf_get_lines(b, first, last, false)) do
              said = said or l == notice
            end
            return said -- detach once seen
          end,
        })
        vim.fn.writefile({}, "go")
        H.wait("the end shows", function()
          local all = lines(buf)
          return all[#all] == "fin" and (all[#all - 1] or ""):find("0300000$") ~= nil
        end, 20000)
        H.truthy(said, "the skip is said")
        -- In normal mode too, as `tail -f` would.
        local win = vim.fn.win_findbuf(buf)[1]
        H.wait("the window shows the end", function()
          return vim.api.nvim_win_get_cursor(win)[1] == vim.api.nvim_buf_line_count(buf)
        end)
      end,
    },

    {
      "a finished task with more output than a terminal keeps: the start, a grey line, the tail",
      function()
        local id = vim.trim(H.cli({ "run", "seq 1 4000000; echo fin" }))
        H.cli({ "wait", id })
        local buf = open(id)
        H.wait("the end shows", function()
          local all = lines(buf)
          return all[#all] == "fin" and all[#all - 1] == "4000000"
        end, 20000)
        local all = lines(buf)
        local notice = vim.tbl_filter(function(l)
          return l == "[errand] skipped to the last 1000 lines (errand logs " .. id .. " has all)"
        end, all)
        H.eq(#notice, 1, "one notice")
        H.truthy(#all < 12000, "not millions of lines replayed: " .. #all)
      end,
    },

    {
      "one window per task, reused; :vertical and :tab honoured; an unknown id opens nothing",
      function()
        local a = run("echo a")
        local wins = #vim.api.nvim_list_wins()
        vim.cmd("wincmd p")
        open(a.id)
        H.eq(#vim.api.nvim_list_wins(), wins, "the same window again")
        local b
        errand.run("echo b", {}, function(t)
          b = t
        end)
        H.wait("b", function()
          return b ~= nil
        end)
        local vbuf = open(b.id, "vertical Errand output " .. b.id)
        H.truthy(vim.api.nvim_win_get_width(0) < vim.o.columns, "a vertical split")
        vim.api.nvim_win_close(0, true)
        local tabs = #vim.api.nvim_list_tabpages()
        H.eq(open(b.id, "tab Errand output " .. b.id), vbuf, "the task's one buffer")
        H.eq(#vim.api.nvim_list_tabpages(), tabs + 1, "in a new tab")
        local before = #vim.api.nvim_list_wins()
        vim.cmd("Errand output zzzzzz")
        H.popup(vim.log.levels.ERROR, "zzzzzz")
        H.eq(#vim.api.nvim_list_wins(), before, "no empty split")
      end,
    },
  }
end
