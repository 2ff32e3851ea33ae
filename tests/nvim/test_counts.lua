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
  }
end
