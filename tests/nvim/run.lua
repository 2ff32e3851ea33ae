-- A small test harness for the errand plugin, run inside a real Neovim:
--   nvim --headless --clean -l tests/nvim/run.lua
-- Loads plugin/nvim from this checkout, records vim.notify popups, runs
-- every test in tests/nvim/test_*.lua against the real errand binary
-- ($ERRAND_BIN), and prints "N passed, N failed". In -l mode print() goes to
-- stderr, so results are written to stdout explicitly.
local root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h")
vim.opt.runtimepath:prepend(root .. "/plugin/nvim")
vim.cmd("runtime plugin/errand.lua")

local H = {}
H.root = root
H.popups = {}

vim.notify = function(msg, level, opts)
  table.insert(H.popups, { msg = msg, level = level, opts = opts })
end

require("errand").setup({ binary = assert(os.getenv("ERRAND_BIN"), "set ERRAND_BIN") })

function H.wait(what, cond, timeout)
  local ok = vim.wait(timeout or 15000, cond, 10)
  if not ok then
    error("timed out waiting for: " .. what, 2)
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
  local out = vim.system(vim.list_extend({ os.getenv("ERRAND_BIN") }, args), { text = true }):wait()
  return out.stdout, out.code
end

function H.task(id)
  local out = H.cli({ "show", "--json", id })
  return vim.json.decode(out)
end

local files = vim.fn.glob(root .. "/tests/nvim/test_*.lua", false, true)
local passed, failed = 0, 0
for _, file in ipairs(files) do
  local tests = dofile(file)(H)
  for _, t in ipairs(tests) do
    H.popups = {}
    local ok, err = xpcall(t[2], debug.traceback)
    -- Leave no window behind for the next test.
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        pcall(vim.api.nvim_win_close, w, true)
      end
    end
    pcall(vim.cmd, "silent! only")
    if ok then
      passed = passed + 1
      io.stdout:write("ok   ", t[1], "\n")
    else
      failed = failed + 1
      io.stdout:write("FAIL ", t[1], "\n", tostring(err), "\n")
    end
  end
end
io.stdout:write(("%d passed, %d failed\n"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
