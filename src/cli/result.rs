//! `errand result`: the JSON value a task left in `$ERRAND_RESULT`, as the
//! task wrote it, for scripts: `errand result k3vq | jq .version`.

use std::io::Write;

use super::{stdout_error, visible, Context};
use crate::error::Result;

/// Exit code when the task ended without a result errand kept.
pub const NO_RESULT: i32 = 5;

pub fn result(cx: &Context, id: &str, out: &mut impl Write) -> Result<i32> {
    let task = cx.store.get(&cx.store.resolve(id)?)?;
    if !task.is_final() {
        eprintln!(
            "errand: task {} has not finished (it is {}): errand wait {0} first",
            task.id,
            task.status().as_str()
        );
        return Ok(4);
    }
    match cx.store.result(&task.id)? {
        Some(json) => {
            writeln!(out, "{json}").map_err(stdout_error)?;
            Ok(0)
        }
        None => {
            match &task.result_error {
                Some(why) => eprintln!("errand: task {} left no result: {}", task.id, visible(why)),
                None => eprintln!("errand: task {} left no result (nothing in $ERRAND_RESULT)", task.id),
            }
            Ok(NO_RESULT)
        }
    }
}
