--- Defaults and the user's options (see :help errand-configuration).
local M = {}

M.defaults = {
  -- Path to the errand binary; nil: $PATH, then this checkout's own build.
  binary = nil,
  -- "en" or "zh"; nil: from v:lang (zh_* is Chinese), else English.
  lang = nil,
  -- Popups through vim.notify when a task ends.
  notify = {
    on_complete = true,
    on_failure = true,
    on_cancel = true,
    -- A long-running task (`ready` pattern) said it is ready.
    on_ready = true,
    -- One summary at start-up of the tasks that finished while Neovim was closed.
    on_startup = true,
    -- Lines of output shown in a failure popup.
    failure_lines = 5,
  },
  -- The tasks window.
  window = {
    width = 0.8,
    height = 0.7,
    border = "rounded",
    -- Close it when another window takes the focus.
    close_on_leave = true,
    -- Keys of each action (a string, a list, or false for none); every
    -- action is also <Plug>(errand-NAME) in the window.
    keys = {
      details = "<CR>",
      cancel = "c",
      pause = "s",
      restart = "r",
      delete = "d",
      output = "o",
      clear = "x",
      filter = "/",
      group = "p",
      unread = "u",
      help = "?",
      back = "<Esc>",
      close = "q",
    },
  },
  -- :Errand qf, the quickfix list of a task's compiler and linter messages.
  quickfix = {
    -- Open the quickfix window when it is filled.
    open = true,
    -- Fill it when a task fails (if its output holds any).
    on_failure = false,
  },
  -- A finished task's messages through vim.diagnostic, in a namespace per
  -- task name ("errand:make"), cleared when a task of that name starts again.
  diagnostics = {
    publish = true,
  },
  -- Icons per status.
  icons = {
    running = "●",
    queued = "◌",
    completed = "✓",
    failed = "✗",
    cancelled = "⊘",
    lost = "?",
    -- A running task that is paused.
    paused = "‖",
    -- A long-running task whose output said it is ready.
    ready = "◉",
    -- A watch (:Errand watch): its command runs again when files change.
    watching = "↻",
  },
}

M.options = vim.deepcopy(M.defaults)

local known =
  { binary = true, lang = true, notify = true, window = true, quickfix = true, diagnostics = true, icons = true }

--- Check what the user gave (an error names the option), then merge it
--- over the defaults. `notify = false` turns every popup off, `true` on.
---@param opts table?
function M.set(opts)
  vim.validate("opts", opts, "table", true)
  opts = vim.deepcopy(opts or {})
  for key in pairs(opts) do
    if not known[key] then
      error(("errand.setup: unknown option %q (see :help errand-configuration)"):format(tostring(key)), 2)
    end
  end
  vim.validate("binary", opts.binary, "string", true)
  vim.validate("lang", opts.lang, function(v)
    return v == nil or v == "en" or v == "zh"
  end, '"en" or "zh"')
  vim.validate("notify", opts.notify, { "table", "boolean" }, true)
  if type(opts.notify) == "boolean" then
    local on = opts.notify
    opts.notify = { on_complete = on, on_failure = on, on_cancel = on, on_ready = on, on_startup = on }
  end
  vim.validate("window", opts.window, "table", true)
  vim.validate("icons", opts.icons, "table", true)
  local n = opts.notify or {}
  for _, key in ipairs({ "on_complete", "on_failure", "on_cancel", "on_ready", "on_startup" }) do
    vim.validate("notify." .. key, n[key], "boolean", true)
  end
  vim.validate("notify.failure_lines", n.failure_lines, "number", true)
  local w = opts.window or {}
  vim.validate("window.width", w.width, "number", true)
  vim.validate("window.height", w.height, "number", true)
  vim.validate("window.border", w.border, { "string", "table" }, true)
  vim.validate("window.close_on_leave", w.close_on_leave, "boolean", true)
  vim.validate("window.keys", w.keys, "table", true)
  for action, keys in pairs(w.keys or {}) do
    if M.defaults.window.keys[action] == nil then
      error(("errand.setup: window.keys: no action %q (see :help errand-keys)"):format(tostring(action)), 2)
    end
    local ok = keys == false
      or type(keys) == "string"
      or (
        type(keys) == "table"
        and #keys == vim.tbl_count(keys)
        and vim.iter(keys):all(function(k)
          return type(k) == "string"
        end)
      )
    if not ok then
      error(("errand.setup: window.keys.%s: a key, a list of keys, or false"):format(action), 2)
    end
  end
  local q = opts.quickfix or {}
  vim.validate("quickfix", opts.quickfix, "table", true)
  vim.validate("quickfix.open", q.open, "boolean", true)
  vim.validate("quickfix.on_failure", q.on_failure, "boolean", true)
  vim.validate("diagnostics", opts.diagnostics, "table", true)
  vim.validate("diagnostics.publish", (opts.diagnostics or {}).publish, "boolean", true)
  for status, icon in pairs(opts.icons or {}) do
    vim.validate("icons." .. tostring(status), icon, "string")
  end
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
end

return M
