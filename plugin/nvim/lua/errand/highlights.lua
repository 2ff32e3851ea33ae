--- errand's highlight groups, linked to the colorscheme's diagnostics so
--- they fit any theme (define them yourself to override).
local M = {}

local links = {
  ErrandRunning = "DiagnosticInfo",
  ErrandQueued = "Comment",
  ErrandCompleted = "DiagnosticOk",
  ErrandFailed = "DiagnosticError",
  ErrandCancelled = "DiagnosticWarn",
  ErrandLost = "DiagnosticError",
  ErrandSection = "Title",
  ErrandDim = "Comment",
  ErrandLabel = "Label",
}

--- The group of each status: ErrandRunning for "running", and so on.
M.status = {}
for _, status in ipairs({ "running", "queued", "completed", "failed", "cancelled", "lost" }) do
  M.status[status] = "Errand" .. status:sub(1, 1):upper() .. status:sub(2)
end

function M.define()
  for group, link in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = link, default = true })
  end
end

return M
