-- The editor's own context: a task starts in this window's directory with
-- Neovim's environment as it is now, and :Errand run expands and completes
-- as :! does. Each test in its own Neovim and task store (run.lua).
return function(H)
  local errand = require("errand")

  --- Run `command` with :Errand run; its output once it ends.
  local function output_of(command)
    local before = vim.deepcopy(vim.tbl_keys(errand.tasks()))
    vim.cmd("Errand run " .. command)
    local task
    H.wait("the task ends", function()
      for id, t in pairs(errand.tasks()) do
        if not vim.tbl_contains(before, id) and (t.status == "completed" or t.status == "failed") then
          task = t
        end
      end
      return task ~= nil
    end)
    return (H.cli({ "logs", task.id })), task
  end

  return {
    {
      "tasks see :let $VAR, a changed PATH and the window's directory, as :! does",
      function()
        -- The server starts first, with the environment Neovim had then.
        require("errand.client").ensure()
        H.wait("the server is up", function()
          return require("errand.state").server ~= nil
        end)
        local bin = vim.fn.getcwd() .. "/mybin"
        vim.fn.mkdir(bin, "p")
        vim.fn.writefile({ "#!/bin/sh", "echo mytool-ran" }, bin .. "/mytool")
        vim.fn.setfperm(bin .. "/mytool", "rwxr-xr-x")
        vim.cmd("let $ERRAND_T_VAR = 'from-the-editor'")
        vim.env.PATH = bin .. ":" .. vim.env.PATH
        local sub = vim.fn.getcwd() .. "/sub"
        vim.fn.mkdir(sub, "p")
        vim.cmd("lcd " .. sub)
        local out, task = output_of("echo ERRAND_T $ERRAND_T_VAR; mytool; pwd")
        H.eq(task.status, "completed", "exit " .. tostring(task.exitCode) .. ": " .. out)
        H.eq(out, "ERRAND_T from-the-editor\nmytool-ran\n" .. sub .. "\n", "what the task saw")
        -- The same through :! for comparison: the editor's own view.
        H.truthy(vim.fn.system("mytool"):find("mytool%-ran"), ":! sees it too")
      end,
    },

    {
      ":Errand run expands % and <cword>, and completes commands then files",
      function()
        vim.fn.writefile({ "target_word here" }, "notes.txt")
        vim.cmd("edit notes.txt")
        local out = output_of("echo ERRAND_T % <cword>")
        H.eq(out, "ERRAND_T notes.txt target_word\n", "expanded as :! would")
        -- Quotes, backslashes and $ are the shell's: untouched.
        out = output_of([[printf 'ERRAND_T\tx|%s|%s\n' '$HOME' a\ b 50% \%]])
        H.eq(out, "ERRAND_T\tx|$HOME|a b\nERRAND_T\tx|50%|%\n", "the shell's own syntax kept")
        local commands = vim.fn.getcompletion("Errand run ech", "cmdline")
        H.truthy(vim.tbl_contains(commands, "echo"), "a shell command: " .. vim.inspect(commands))
        local files = vim.fn.getcompletion("Errand run cat not", "cmdline")
        H.eq(files, { "notes.txt" }, "then files")
      end,
    },
  }
end
