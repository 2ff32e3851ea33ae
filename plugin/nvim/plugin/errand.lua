-- errand: background tasks for Neovim. Defines :Errand only; everything
-- else loads on first use (no start-up cost). :help errand
if vim.g.loaded_errand then
  return
end
vim.g.loaded_errand = true

vim.api.nvim_create_user_command("Errand", function(opts)
  require("errand.commands").run(opts)
end, {
  nargs = "*",
  desc = "errand: run, list, cancel, restart, output, follow, clear, #workflow",
  complete = function(arglead, cmdline)
    return require("errand.commands").complete(arglead, cmdline)
  end,
})
