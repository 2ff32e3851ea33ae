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

function M.set(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
end

return M
