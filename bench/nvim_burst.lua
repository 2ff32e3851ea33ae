-- The Neovim tasks window under a burst (issue #12): input delay and memory
-- while 2,000 tasks are submitted from a shell with the window open.
-- Not a test: prints figures. Run by bench/nvim_burst.sh.
--   nvim --headless --clean -l bench/nvim_burst.lua
-- A 10 ms timer stands for the user's input: how late its ticks come is how
-- long a key press would wait.
local root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h")
local bin = assert(os.getenv("ERRAND_BIN"), "set ERRAND_BIN")
local n = tonumber(os.getenv("N") or "2000")
vim.opt.runtimepath:prepend(root .. "/plugin/nvim")
vim.cmd("runtime plugin/errand.lua")
vim.notify = function() end -- popups are not what is measured here
require("errand").setup({ binary = bin })
vim.o.columns, vim.o.lines = 120, 40

local state = require("errand.state")
require("errand.client").ensure()
vim.wait(5000, function()
  return state.server ~= nil
end)
vim.cmd("Errand list")

local late, ticks, worst = 0, 0, 0
local last = vim.uv.hrtime()
local timer = vim.uv.new_timer()
timer:start(
  10,
  10,
  vim.schedule_wrap(function()
    local now = vim.uv.hrtime()
    local delay = (now - last) / 1e6 - 10
    last = now
    ticks = ticks + 1
    worst = math.max(worst, delay)
    if delay > 50 then
      late = late + 1
    end
  end)
)
local rss_before = vim.uv.resident_set_memory()
local started = vim.uv.hrtime()
local loop = ('for i in $(seq %d); do "$E" run true >/dev/null; done'):format(n)
local submitted = false
vim.system({ "sh", "-c", loop }, { env = { E = bin } }, function()
  submitted = true
end)
local peak = rss_before
vim.wait(600000, function()
  peak = math.max(peak, vim.uv.resident_set_memory())
  return submitted and state.counts.running + state.counts.queued == 0 and vim.tbl_count(state.by_id) >= n
end, 20)
local took = (vim.uv.hrtime() - started) / 1e9
timer:stop()
print(("%d tasks with the window open: %.1f s"):format(n, took))
print(("input delay (10 ms ticks): worst %.0f ms, %d of %d ticks later than 50 ms"):format(worst, late, ticks))
print(("Neovim RSS: %.0f MB before, %.0f MB peak"):format(rss_before / 1e6, peak / 1e6))
require("errand.client").stop()
