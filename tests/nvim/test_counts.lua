-- Counts as the plugin keeps them: the real server's answers and
-- notifications can cross, so of two counts the one read at the later store
-- change (`seq`) wins, whatever order they arrive in.
return function(H)
  local errand = require("errand")
  local state = require("errand.state")

  return {
    {
      "older counts arriving later do not replace newer ones; a new connection starts over",
      function()
        -- Fed to the real state module directly: the crossing cannot be produced on demand.
        state.set_counts({ running = 2, queued = 0, failed = 0, seq = 7 })
        state.set_counts({ running = 9, queued = 0, failed = 0, seq = 5 })
        H.eq(errand.status(), "2 running", "seq 5 is older than seq 7")
        state.set_counts({ running = 0, queued = 1, failed = 0, seq = 7 })
        H.eq(errand.status(), "1 queued", "an equal seq: the later one")
        state.set_counts({ running = 0, queued = 0, failed = 1, seq = 1 }, true)
        H.eq(errand.status(), "1 failed", "initialize of a new connection")
      end,
    },

    {
      "the real server: counts end right after a burst of tasks",
      function()
        for i = 1, 20 do
          vim.cmd("Errand run echo " .. i)
        end
        H.wait(function()
          return ("idle after the burst; the statusline says %q (seq %d), the store:\n%s"):format(
            errand.status(),
            state.counts.seq,
            vim.fn.system({ H.bin, "ls", "-n", "30" })
          )
        end, function()
          return errand.status() == "" and state.counts.seq > 0
          -- A stale count never corrects itself: a long wait still catches
          -- one, and a machine busy compiling (CI ran out of 15 s) does not.
        end, 60000)
      end,
    },

    {
      "a watch counts in the statusline; a ready task pops up and shows as ready",
      function()
        errand.status()
        H.wait("the server", function()
          return state.server ~= nil
        end)
        local watch = vim.trim(H.cli({ "run", "--watch", ".", "--", "true" }))
        H.truthy(watch:match("^w%d+$"), "a watch id: " .. watch)
        H.wait(function()
          return "the statusline says " .. errand.status()
        end, function()
          return errand.status():find("1 watching", 1, true) ~= nil
        end)
        local id =
          vim.trim(H.cli({ "run", "--ready", "^listening", "echo starting; sleep 0.3; echo listening; sleep 60" }))
        local popup = H.popup(vim.log.levels.INFO, "is ready")
        H.truthy(popup.msg:find(id, 1, true), "the popup names the task: " .. popup.msg)
        H.eq(type(state.by_id[id].readyAt), "number", "the plugin knows it is ready")
        vim.cmd("Errand list")
        H.wait(function()
          return "a ready row in " .. vim.inspect(H.float_lines())
        end, function()
          for _, line in ipairs(H.float_lines() or {}) do
            if line:find("◉ " .. id, 1, true) and line:find("ready", 1, true) then
              return true
            end
          end
        end)
        H.cli({ "cancel", watch })
        H.cli({ "cancel", id })
        H.wait(function()
          return "idle; the statusline says " .. errand.status()
        end, function()
          return errand.status() == ""
        end)
      end,
    },
  }
end
