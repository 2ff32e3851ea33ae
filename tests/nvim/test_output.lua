-- The output buffer against the real errand binary: it survives the server
-- dying mid-follow, and live output keeps every character whole.
return function(H)
  local errand = require("errand")
  local client = require("errand.client")
  local state = require("errand.state")

  local function lines(buf)
    return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end

  local function run(script)
    local task
    errand.run(script, { name = "output" }, function(t)
      task = t
    end)
    H.wait("queued", function()
      return task ~= nil
    end)
    vim.cmd("Errand output " .. task.id)
    return task, vim.api.nvim_get_current_buf()
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
  }
end
