--- Watches: a command or workflow run again whenever a watched file
--- changes (`errand run --watch` in a shell, `:Errand watch` here). Each run
--- is an ordinary task; this keeps the open watches (`watch/list`) for the
--- tasks window, refreshed when the server says a watch began or ended
--- (the `watching` count) or a run started.
local M = {}

--- The open watches (errand.WatchInfo), newest first.
---@type errand.WatchInfo[]
M.list = {}

local asked = false

--- Ask the server for the open watches again; one question at a time.
function M.refresh()
  if asked then
    return
  end
  asked = true
  require("errand.client").request("watch/list", vim.empty_dict(), function(err, res)
    asked = false
    if err or not res then
      return
    end
    local was = #M.list
    M.list = res
    if was > 0 or #res > 0 then
      require("errand.state").emit_change()
    end
  end)
end

--- A notification came: refresh when a watch may have begun, ended or run.
---@param method string
function M.on_notification(method)
  local state = require("errand.state")
  if method == "counts/changed" and (state.counts.watching or 0) ~= #M.list then
    M.refresh()
  elseif (method == "task/started" or method == "task/finished") and #M.list > 0 then
    M.refresh()
  end
end

--- Start a watch of `what` (a shell command, or "#name" for a workflow):
--- it runs now and whenever a file under `opts.paths` (default: the
--- workflow's `watch`, else the current directory) changes. cb(started).
---@param what string
---@param opts { paths: string[]?, on_change: "restart"|"queue"? }?
---@param cb fun(started: errand.WatchStarted)?
function M.start(what, opts, cb)
  opts = opts or {}
  local env = vim.fn.environ()
  local params = {
    clientCwd = vim.fn.getcwd(),
    clientEnv = next(env) and env or vim.empty_dict(),
    paths = opts.paths,
    onChange = opts.on_change,
  }
  if what:sub(1, 1) == "#" then
    params.workflow = what:sub(2)
  else
    params.command = what
  end
  require("errand.client").request("watch/start", params, function(err, started)
    local t = require("errand.messages").t
    if err or not started then
      vim.notify("errand: " .. (err and err.message or "?"), vim.log.levels.ERROR, { title = "errand" })
      return
    end
    vim.notify(
      "errand: " .. t("watch_started", started.watch.id, started.folders, started.watch.id),
      vim.log.levels.INFO,
      { title = "errand" }
    )
    M.refresh()
    if cb then
      cb(started)
    end
  end)
end

--- A watch's id (`w3`), not a task's.
---@param id string?
---@return boolean
function M.is_watch_id(id)
  return id ~= nil and id:match("^w[1-9]%d*$") ~= nil
end

--- End watch `id` (`w3`): no more runs; its run in progress is cancelled.
---@param id string
function M.stop(id)
  require("errand.client").request("watch/end", { id = id }, function(err)
    if err then
      vim.notify("errand: " .. (err.message or tostring(err)), vim.log.levels.ERROR, { title = "errand" })
    end
    M.refresh()
  end)
end

return M
