-- Whichever command a user types first in a fresh Neovim, the session is
-- whole: the server is introduced with `initialize` and notifications turn
-- into popups. (A bug once skipped `initialize` unless the first command
-- happened to load the module that registered the handlers.)
return function(H)
  --- The server's log says it was introduced by this plugin.
  local function initialized()
    H.wait("initialize from nvim in the server's log", function()
      return H.server_log():find('initialize client=Some%("nvim"%)') ~= nil
    end)
    H.wait("the plugin took the server's facts", function()
      return require("errand.state").server ~= nil
    end)
  end

  return {
    {
      "first command :Errand #workflow",
      function()
        vim.fn.writefile({ 'hello = "echo hi from the workflow"' }, "errand.toml")
        vim.cmd("Errand #hello")
        H.popup(vim.log.levels.INFO, "✓ hello")
        initialized()
      end,
    },
    {
      "first command :Errand cancel ID",
      function()
        local id = vim.trim(H.cli({ "run", "sleep 100" }))
        H.wait("it runs", function()
          return H.task(id).status == "running"
        end)
        vim.cmd("Errand cancel " .. id)
        H.popup(vim.log.levels.WARN, "⊘ sleep 100 cancelled")
        initialized()
      end,
    },
    {
      "first command :Errand clear",
      function()
        local id = vim.trim(H.cli({ "run", "exit 3" }))
        H.cli({ "wait", id })
        vim.cmd("Errand clear")
        initialized()
        H.wait("no failure counted", function()
          return require("errand").status() == "" and H.task(id).readAt ~= nil
        end)
        -- Notifications arrive: a task from the shell ends in a popup.
        H.cli({ "run", "--name", "from the shell", "true" })
        H.popup(vim.log.levels.INFO, "✓ from the shell")
      end,
    },
  }
end
