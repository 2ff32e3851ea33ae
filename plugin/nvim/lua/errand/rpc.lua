--- The one adapter around vim.lsp.rpc (LSP-flavoured, and its signature
--- changed in 0.10): start a JSON-RPC server over stdio, send requests, get
--- notifications, and learn when it exits. Requests pending when it dies
--- are failed here: vim.lsp.rpc never calls them.
local M = {}

--- JSON null as nil, whatever this Neovim's vim.lsp.rpc does (0.11 decodes
--- null in objects as nil, 0.12 as vim.NIL): the protocol's types say `T?`.
local function nil_for_null(value)
  if type(value) ~= "table" then
    return value ~= vim.NIL and value or nil
  end
  for k, v in pairs(value) do
    if v == vim.NIL then
      value[k] = nil
    elseif type(v) == "table" then
      nil_for_null(v)
    end
  end
  return value
end

---@class errand.Connection
---@field request fun(method: string, params: table, cb: fun(err: table?, result: any))
---@field is_closing fun(): boolean
---@field terminate fun()

--- Start `cmd`. `on_notification(method, params)` gets what the server
--- pushes; `on_exit(code, signal)` runs (scheduled) when it ends.
---@return errand.Connection? conn, string? why
function M.start(cmd, on_notification, on_exit)
  local pending = {} ---@type table<integer, fun(err: table?, result: any)>
  local ok, client = pcall(vim.lsp.rpc.start, cmd, {
    notification = function(method, params)
      on_notification(method, nil_for_null(params))
    end,
    server_request = function()
      return nil, { code = -32601, message = "errand's client answers no requests" }
    end,
    on_exit = function(code, signal)
      -- A fast context: leave it before touching the API.
      vim.schedule(function()
        local waiting = pending
        pending = {}
        for _, cb in pairs(waiting) do
          cb({ code = -32099, message = ("errand server exited (code %s, signal %s)"):format(code, signal) })
        end
        on_exit(code, signal)
      end)
    end,
    on_error = function() end,
  })
  if not ok then
    return nil, tostring(client)
  end
  local conn = {}
  --- cb(err, result) is called exactly once.
  function conn.request(method, params, cb)
    local id
    local sent, rid = client.request(method, params, function(err, result)
      if id and pending[id] then
        pending[id] = nil
        cb(err, nil_for_null(result))
      end
    end)
    if not sent then
      vim.schedule(function()
        cb({ code = -32099, message = "errand server is not reachable" })
      end)
      return
    end
    id = rid
    pending[id] = cb
  end
  conn.is_closing = client.is_closing
  conn.terminate = client.terminate
  return conn
end

return M
