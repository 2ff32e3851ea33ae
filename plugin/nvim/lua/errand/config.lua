--- Defaults and the user's options (see :help errand-configuration).
local M = {}

M.defaults = {
  -- Path to the errand binary; nil: $PATH, then this checkout's own build.
  binary = nil,
  -- Popups through vim.notify when a task ends.
  notify = {
    on_complete = true,
    on_failure = true,
    on_cancel = true,
    -- One summary at start-up of the tasks that finished while Neovim was closed.
    on_startup = true,
    -- Lines of output shown in a failure popup.
    failure_lines = 5,
  },
  -- The tasks window.
  window = { width = 0.8, height = 0.7, border = "rounded" },
  -- Icons per status.
  icons = {
    running = "●",
    queued = "◌",
    completed = "✓",
    failed = "✗",
    cancelled = "⊘",
    lost = "?",
  },
}

M.options = vim.deepcopy(M.defaults)

--- Check the types of what the user gave (an error names the option), then
--- merge it over the defaults.
---@param opts table?
function M.set(opts)
  vim.validate("opts", opts, "table", true)
  opts = opts or {}
  vim.validate("binary", opts.binary, "string", true)
  for _, key in ipairs({ "notify", "window", "icons" }) do
    vim.validate(key, opts[key], "table", true)
  end
  local n = opts.notify or {}
  for _, key in ipairs({ "on_complete", "on_failure", "on_cancel", "on_startup" }) do
    vim.validate("notify." .. key, n[key], "boolean", true)
  end
  vim.validate("notify.failure_lines", n.failure_lines, "number", true)
  local w = opts.window or {}
  vim.validate("window.width", w.width, "number", true)
  vim.validate("window.height", w.height, "number", true)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
end

return M
