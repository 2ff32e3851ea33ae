--- A task's compiler and linter messages in the quickfix list (:Errand qf),
--- from the server's task/diagnostics: the matching runs there, never in
--- Neovim.
local M = {}

local kinds = { error = "E", warning = "W", info = "I" }

--- Quickfix items from a task/diagnostics result.
---@param result errand.DiagnosticsResult
---@return table[]
function M.items(result)
  return vim.tbl_map(function(d)
    local text = d.message
    if d.code then -- null arrives as nil (rpc.lua)
      text = text .. " [" .. d.code .. "]"
    end
    return {
      filename = d.file,
      lnum = d.line,
      col = d.column or 0,
      type = kinds[d.severity] or "E",
      text = text,
    }
  end, result.diagnostics)
end

---@param task errand.Task
local function title_of(task)
  return ("errand: %s (%s)"):format(require("errand.format").sanitize(task.name), task.id)
end

--- Fill the quickfix list with a task's diagnostics (id nil: the newest
--- task that failed). `quiet`: no popup when there are none (automatic use).
---@param id string?
---@param quiet boolean?
---@param cb fun(count: integer)?
function M.load(id, quiet, cb)
  local params = id and { id = id } or vim.empty_dict()
  require("errand.client").request("task/diagnostics", params, function(err, result)
    if err then
      if not quiet then
        vim.notify("errand: " .. (err.message or tostring(err)), vim.log.levels.ERROR, { title = "errand" })
      end
      return
    end
    local format = require("errand.format")
    local t = require("errand.messages").t
    local items = M.items(result)
    local title = title_of(result.task)
    if #items == 0 then
      if not quiet then
        vim.notify("errand: " .. t("no_diagnostics", format.sanitize(result.task.name)), vim.log.levels.INFO)
      end
    else
      vim.fn.setqflist({}, " ", { title = title, items = items })
      if require("errand.config").options.quickfix.open then
        vim.cmd("botright copen")
        -- Filled by itself (a task failed): show it, but leave the cursor where the user is.
        if quiet then
          vim.cmd("wincmd p")
        end
      end
    end
    if cb then
      cb(#items)
    end
  end)
end

--- A watch-mode tool's compile cycle ended (task/diagnosticsChanged): a
--- quickfix list loaded from that task follows, in place (its position and
--- window stay); any other list is left alone.
---@param result errand.DiagnosticsResult
function M.cycle(result)
  local title = title_of(result.task)
  if vim.fn.getqflist({ title = 0 }).title == title then
    vim.fn.setqflist({}, "r", { title = title, items = M.items(result) })
  end
end

--- A task finished: with `quickfix.on_failure`, a failed one fills the list.
---@param task errand.Task
function M.finished(task)
  if task.status == "failed" and require("errand.config").options.quickfix.on_failure then
    M.load(task.id, true)
  end
end

return M
