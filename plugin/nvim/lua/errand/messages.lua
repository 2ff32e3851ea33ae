--- Every word the plugin shows, in one table per language: English and
--- Chinese. `setup({ lang = "zh" })` chooses; by default `v:lang` does
--- (zh_CN.UTF-8 → zh), else English. A key missing in a language falls
--- back to English.
local M = {}

local en = {
  -- Sections of the tasks window and statuses as words.
  running = "Running",
  queued = "Queued",
  completed = "Completed",
  failed = "Failed",
  cancelled = "Cancelled",
  more_row = "… more (<CR> loads them)",
  keys_hint = "? help  <CR> details  c cancel  s pause  r restart  d delete  o output  / filter  u unread  q close",
  details_hint = "<Esc> back  c cancel  s pause/resume  r restart  o output  q close",
  window_help = "errand tasks window",
  plug_hint = "Every action is also <Plug>(errand-NAME): details, cancel, …",
  -- The details view.
  label_status = "status",
  label_name = "name",
  label_id = "id",
  label_command = "command",
  label_cwd = "cwd",
  label_started = "started",
  label_ended = "ended",
  label_duration = "duration",
  label_exit = "exit code",
  label_after = "after",
  label_runs = "runs",
  runs_of = "%d of up to %d",
  label_failed_run = "failed run",
  why_exit = "exit %d",
  why_signal = "signal %d",
  label_diagnostics = "problems",
  diagnostics_counts = "%d errors, %d warnings, %d notes (:Errand qf)",
  label_signal = "signal",
  label_progress = "progress",
  label_error = "error",
  label_result = "result",
  result_refused = "none kept: %s",
  result_rule = "── result ──",
  output_rule = "── output ──",
  -- Actions, as `?` lists them.
  action_details = "details of the task; on a more row, load more",
  action_cancel = "cancel",
  action_pause = "pause a running task (SIGSTOP; it keeps its slot), or resume it",
  action_restart = "restart",
  action_delete = "delete (restorable with errand restore)",
  action_output = "output in a terminal split, following it",
  action_clear = "clear failed (mark every finished task read)",
  action_filter = "filter by text in the name or command (empty: none)",
  action_group = "show one group (project)",
  action_unread = "unread only, or all again",
  action_help = "these keys",
  action_back = "back to the list (from details or help), or close",
  action_close = "close",
  -- Filters and pickers.
  filter_prompt = "Filter tasks: ",
  group_prompt = "Group",
  all_groups = "(all groups)",
  filter_group = "group %s",
  filter_unread = "unread",
  pick_cancel = "Cancel task",
  pick_restart = "Restart task",
  -- Times.
  ago_s = "%ds ago",
  ago_m = "%dm ago",
  ago_h = "%dh ago",
  ago_d = "%dd ago",
  left = "%s left",
  -- Popups.
  popup_cancelled = " cancelled · %s",
  colon = ": ",
  exit_code = "exit %d",
  signal_n = "signal %d",
  timed_out = "timed out after %s",
  count_running = "%d running",
  count_queued = "%d queued",
  group_running_limit = "%d/%d running",
  count_failed = "%d failed",
  status_running = "running",
  status_queued = "queued",
  status_completed = "completed",
  status_failed = "failed",
  status_cancelled = "cancelled",
  status_lost = "lost",
  status_paused = "paused",
  burst_more = "%d more tasks finished",
  burst_more_one = "1 more task finished",
  n_failed = " · %d failed",
  see_list = " (:Errand list)",
  summary = "%d tasks finished while Neovim was closed",
  summary_one = "1 task finished while Neovim was closed",
  summary_more = "… %d more",
  -- Commands.
  no_task = "no task to choose from",
  no_task_yet = "no task yet",
  no_diagnostics = "no compiler or linter messages in the output of %s",
  run_usage = ":Errand run {command}",
  unknown_subcommand = "unknown subcommand '%s'",
}

local zh = {
  running = "运行中",
  queued = "排队中",
  completed = "已完成",
  failed = "失败",
  cancelled = "已取消",
  more_row = "… 更多（按 <CR> 加载）",
  keys_hint = "? 帮助  <CR> 详情  c 取消  s 暂停  r 重新运行  d 删除  o 输出  / 筛选  u 未读  q 关闭",
  details_hint = "<Esc> 返回  c 取消  s 暂停/继续  r 重新运行  o 输出  q 关闭",
  window_help = "errand 任务窗口",
  plug_hint = "每个操作也是 <Plug>(errand-名称)：details、cancel……",
  label_status = "状态",
  label_name = "名称",
  label_id = "编号",
  label_command = "命令",
  label_cwd = "目录",
  label_started = "开始",
  label_ended = "结束",
  label_duration = "耗时",
  label_exit = "退出码",
  label_after = "依赖",
  label_runs = "运行",
  runs_of = "第 %d 次，最多 %d 次",
  label_failed_run = "失败的运行",
  why_exit = "退出码 %d",
  why_signal = "信号 %d",
  label_diagnostics = "问题",
  diagnostics_counts = "%d 个错误，%d 个警告，%d 个提示（:Errand qf）",
  label_signal = "信号",
  label_progress = "进度",
  label_error = "错误",
  label_result = "结果",
  result_refused = "未保存：%s",
  result_rule = "── 结果 ──",
  output_rule = "── 输出 ──",
  action_details = "任务详情；在“更多”行上加载更多",
  action_cancel = "取消",
  action_pause = "暂停运行中的任务（SIGSTOP，保留其名额），或继续运行",
  action_restart = "重新运行",
  action_delete = "删除（可用 errand restore 恢复）",
  action_output = "在终端分屏中查看输出并跟随",
  action_clear = "清除失败（将所有已结束的任务标为已读）",
  action_filter = "按名称或命令中的文字筛选（留空：不筛选）",
  action_group = "只看一个分组（项目）",
  action_unread = "只看未读，或恢复全部",
  action_help = "这些按键",
  action_back = "返回列表（从详情或帮助），或关闭",
  action_close = "关闭",
  filter_prompt = "筛选任务：",
  group_prompt = "分组",
  all_groups = "（全部分组）",
  filter_group = "分组 %s",
  filter_unread = "未读",
  pick_cancel = "取消任务",
  pick_restart = "重新运行任务",
  ago_s = "%d 秒前",
  ago_m = "%d 分钟前",
  ago_h = "%d 小时前",
  ago_d = "%d 天前",
  left = "剩余 %s",
  popup_cancelled = " 已取消 · %s",
  colon = "：",
  exit_code = "退出码 %d",
  signal_n = "信号 %d",
  timed_out = "超时（%s）",
  count_running = "%d 运行中",
  count_queued = "%d 排队中",
  group_running_limit = "%d/%d 运行中",
  count_failed = "%d 失败",
  status_running = "运行中",
  status_queued = "排队中",
  status_completed = "已完成",
  status_failed = "失败",
  status_cancelled = "已取消",
  status_lost = "丢失",
  status_paused = "已暂停",
  burst_more = "另有 %d 个任务结束",
  burst_more_one = "另有 1 个任务结束",
  n_failed = " · %d 个失败",
  see_list = "（:Errand list）",
  summary = "Neovim 关闭期间有 %d 个任务结束",
  summary_one = "Neovim 关闭期间有 1 个任务结束",
  summary_more = "… 另有 %d 个",
  no_task = "没有可选的任务",
  no_task_yet = "还没有任务",
  no_diagnostics = "%s 的输出中没有编译器或检查工具的消息",
  run_usage = ":Errand run {命令}",
  unknown_subcommand = "未知的子命令“%s”",
}

M.languages = { en = en, zh = zh }

--- The language in use: the `lang` option, else `v:lang`'s.
---@return "en"|"zh"
function M.lang()
  local chosen = require("errand.config").options.lang
  if chosen then
    return chosen
  end
  return (vim.v.lang or ""):lower():sub(1, 2) == "zh" and "zh" or "en"
end

--- The text of `key` in the language in use, formatted with `...`.
---@param key string
---@return string
function M.t(key, ...)
  local text = M.languages[M.lang()][key] or en[key] or key
  if select("#", ...) > 0 then
    return text:format(...)
  end
  return text
end

return M
