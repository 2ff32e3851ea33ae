//! `errand progress`: a task reports how far it got (shown with an ETA).

use super::Context;
use crate::error::{Error, Result};

pub fn progress(cx: &Context, percent: f64, message: Option<String>, id: Option<String>) -> Result<i32> {
    let id = id
        .or_else(|| std::env::var("ERRAND_TASK_ID").ok())
        .ok_or_else(|| Error::InvalidInput("no task: pass --id or run this inside a task".into()))?;
    if !(0.0..=100.0).contains(&percent) {
        return Err(Error::InvalidInput("percent must be between 0 and 100".into()));
    }
    cx.store.set_progress(&cx.store.resolve(&id)?, percent, message.as_deref())?;
    crate::wakeup::signal(cx.paths);
    Ok(0)
}
