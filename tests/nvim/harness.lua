-- Helpers for one plugin test, inside its own fresh Neovim (see run.lua):
-- waits with deadlines, assertions, recorded popups, floats, and the errand
-- CLI on the same task store.
local H = {}

H.root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h")
H.bin = assert(os.getenv("ERRAND_BIN"), "set ERRAND_BIN")
H.popups = {}

--- Load the plugin from this checkout, as a user's runtimepath would, and
--- record vim.notify instead of showing it.
function H.load_plugin()
  vim.opt.runtimepath:prepend(H.root .. "/plugin/nvim")
  vim.cmd("runtime plugin/errand.lua")
  vim.notify = function(msg, level, opts)
    table.insert(H.popups, { msg = msg, level = level, opts = opts })
  end
  require("errand").setup({ binary = H.bin })
end

--- `what` may be a function: it is called on a timeout, to say what was seen.
function H.wait(what, cond, timeout)
  local ok = vim.wait(timeout or 15000, cond, 10)
  if not ok then
    error("timed out waiting for: " .. (type(what) == "function" and what() or what), 2)
  end
end

function H.eq(a, b, what)
  if not vim.deep_equal(a, b) then
    error(("%s: expected %s, got %s"):format(what or "value", vim.inspect(b), vim.inspect(a)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error(what or "expected a true value", 2)
  end
end

--- The first popup matching level and pattern (waits for it).
function H.popup(level, pattern)
  local found
  H.wait("a popup matching " .. pattern, function()
    for _, p in ipairs(H.popups) do
      if p.level == level and p.msg:find(pattern) then
        found = p
        return true
      end
    end
  end)
  return found
end

--- Lines of the visible floating window's buffer.
function H.float_lines()
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= "" then
      return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), w
    end
  end
  return nil
end

--- The errand CLI on the same store.
function H.cli(args)
  local out = vim.system(vim.list_extend({ H.bin }, args), { text = true }):wait()
  return out.stdout, out.code
end

function H.task(id)
  local out = H.cli({ "show", "--json", id })
  return vim.json.decode(out, { luanil = { object = true } })
end

--- errand's own log (the server writes it), as one string.
function H.server_log()
  local files = vim.fn.glob(os.getenv("ERRAND_HOME") .. "/log/errand.log*", false, true)
  local text = {}
  for _, f in ipairs(files) do
    vim.list_extend(text, vim.fn.readfile(f))
  end
  return table.concat(text, "\n")
end

return H
