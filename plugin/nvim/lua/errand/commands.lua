--- :Errand and its completion.
local format = require("errand.format")
local t = require("errand.messages").t

local M = {}

--- The file specials of `cmd` expanded, and nothing else: `%` and `#`
--- (with a count and modifiers: `%:p`, `#2:t`) as whole words, and
--- `<cword>`, `<cWORD>`, `<cfile>` anywhere. Quotes, backslashes and `$VAR`
--- are the shell's, untouched (expandcmd() would strip and expand them);
--- `\%` and `\#` are a plain `%` and `#`. What is put in is quoted for
--- the shell. Errors (no file name) are raised.
---@param cmd string
---@return string
function M.expand_specials(cmd)
  cmd = cmd:gsub("<c[wWf][oOi][rRl][dDe]>", function(token)
    if token == "<cword>" or token == "<cWORD>" or token == "<cfile>" then
      return vim.fn.shellescape(vim.fn.expand(token))
    end
  end)
  -- Whole words only: a leading space makes the first word one too.
  return (
    ((" " .. cmd):gsub("(%s)(\\?)([%%#][^%s]*)", function(space, escaped, word)
      if escaped ~= "" then
        return space .. word
      end
      local head, mods = word:match("^([%%#]%d*)(.*)$")
      local plain_mods = mods == "" or mods:gsub(":[%w~.]", "") == ""
      if not plain_mods then
        return space .. word
      end
      local file = vim.fn.expand(head .. mods)
      if file == "" then
        error(("no file name for %s"):format(head), 0)
      end
      return space .. vim.fn.shellescape(file)
    end)):sub(2)
  )
end

local subcommands = { "run", "watch", "list", "cancel", "restart", "output", "follow", "qf", "clear" }

local function errand()
  return require("errand")
end

local function client()
  return require("errand.client")
end

local function workflow_names()
  local err, res = client().request_sync("workflow/list", { clientCwd = vim.fn.getcwd() }, 1500)
  if err or not res then
    return {}
  end
  return vim.tbl_map(function(w)
    return w.name
  end, res)
end

--- Tasks to choose from: known ones, refreshed from the server.
local function candidates(filter)
  local _, res = client().request_sync("task/list", { limit = 100 }, 1500)
  local state = require("errand.state")
  for _, t in ipairs(res and res.tasks or {}) do
    state.merge(t)
  end
  return state.list(filter)
end

local active = function(t)
  return require("errand.state").is_active(t)
end
local finished = function(t)
  return not active(t)
end
local any = function()
  return true
end

--- With an id, act on it; without, let the user pick (vim.ui.select, so
--- telescope / fzf-lua / snacks pickers take over where installed).
local function with_task(id, filter, prompt, fn)
  if id and id ~= "" then
    return fn(id)
  end
  local list = candidates(filter)
  if #list == 0 then
    vim.notify("errand: " .. t("no_task"), vim.log.levels.WARN, { title = "errand" })
    return
  end
  vim.ui.select(list, {
    prompt = prompt,
    kind = "errand.task",
    format_item = function(t)
      return ("%s %s  %s"):format(t.id, t.status, format.sanitize(t.name))
    end,
  }, function(choice)
    if choice then
      fn(choice.id)
    end
  end)
end

function M.run(opts)
  local args = opts.fargs
  local sub = args[1]
  local rest = vim.trim(opts.args:sub(#(sub or "") + 2))
  if not sub or sub == "list" then
    return errand().list()
  elseif sub:sub(1, 1) == "#" then
    -- The whole line: a detected task's name may hold spaces (#vscode:Build App).
    return errand().run_workflow(vim.trim(opts.args):sub(2))
  elseif sub == "run" then
    if rest == "" then
      return vim.notify("errand: " .. t("run_usage"), vim.log.levels.ERROR, { title = "errand" })
    end
    -- %, # and <cword>, as :! expands them; the rest is the shell's.
    local ok, expanded = pcall(M.expand_specials, rest)
    if not ok then
      return vim.notify(
        "errand: " .. tostring(expanded):gsub("^Vim%(.-%):", ""),
        vim.log.levels.ERROR,
        { title = "errand" }
      )
    end
    return errand().run(expanded)
  elseif sub == "watch" then
    if rest == "" then
      return vim.notify("errand: " .. t("watch_usage"), vim.log.levels.ERROR, { title = "errand" })
    end
    local ok, expanded = pcall(M.expand_specials, rest)
    if not ok then
      return vim.notify("errand: " .. tostring(expanded), vim.log.levels.ERROR, { title = "errand" })
    end
    return require("errand.watches").start(expanded)
  elseif sub == "cancel" and require("errand.watches").is_watch_id(args[2]) then
    return require("errand.watches").stop(args[2])
  elseif sub == "cancel" then
    return with_task(args[2], active, t("pick_cancel"), errand().cancel)
  elseif sub == "restart" then
    return with_task(args[2], finished, t("pick_restart"), errand().restart)
  elseif sub == "output" or sub == "follow" then
    local id = args[2]
    if not id then
      -- The newest running task, or else the newest one.
      local list = candidates(any)
      local pick = vim.tbl_filter(active, list)[1] or list[1]
      if not pick then
        return vim.notify("errand: " .. t("no_task_yet"), vim.log.levels.WARN, { title = "errand" })
      end
      id = pick.id
    end
    return errand().output(id, opts.mods)
  elseif sub == "qf" then
    return require("errand.quickfix").load(args[2])
  elseif sub == "clear" then
    return errand().clear()
  end
  vim.notify("errand: " .. t("unknown_subcommand", sub), vim.log.levels.ERROR, { title = "errand" })
end

function M.complete(arglead, cmdline)
  local words = vim.split(cmdline, "%s+", { trimempty = false })
  if #words <= 2 then
    if arglead:sub(1, 1) == "#" then
      return vim.tbl_map(
        function(n)
          return "#" .. n
        end,
        vim.tbl_filter(function(n)
          return vim.startswith("#" .. n, arglead)
        end, workflow_names())
      )
    end
    return vim.tbl_filter(function(s)
      return vim.startswith(s, arglead)
    end, subcommands)
  end
  local sub = words[2]
  if sub == "run" or sub == "watch" then
    -- As after :!, a command first, then files.
    return vim.fn.getcompletion(arglead, #words == 3 and "shellcmd" or "file")
  end
  local filter = ({ cancel = active, restart = finished, output = any, follow = any, qf = finished })[sub]
  if filter and #words == 3 then
    return vim.tbl_filter(
      function(id)
        return vim.startswith(id, arglead)
      end,
      vim.tbl_map(function(t)
        return t.id
      end, candidates(filter))
    )
  end
  return {}
end

return M
