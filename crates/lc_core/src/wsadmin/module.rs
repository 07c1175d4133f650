//! The shape the wsadmin modules share, so that each one keeps only what is its own.
//!
//! A module validates its options and makes a pure plan: a list of items (one orphan, one admin
//! call), each with a [`Status`]. What the layer does with them:
//! - [`script`], [`flag`]: the module's Jython body (a `.py` file beside its crate, `include_str!`) with
//!   the Communities admin script loaded, ARGS and DATA rows added by the module;
//! - [`prepare`]: the wsadmin options checked before anything is made on the host (a check-mode
//!   run starts no wsadmin, so it does not need them);
//! - [`todo`]: the items still [`Status::Planned`], whose DATA rows the script gets;
//! - [`execute`]: runs the script of a module that reads the output itself;
//! - [`run`]: runs the script, reads each `outcome` record (index, status, message) into the
//!   item it names through the module's own reader, then marks what wsadmin never reached with
//!   [`ended_before`];
//! - [`Counts`] (the `counts` result key) and [`Counts::failures`], the message that names the
//!   first failure.
//!
//! Adding an admin call is then a branch in the `.py` file that prints its `outcome` record and
//! an item in the plan; nothing here changes.

use super::{Output, Script, WsadminArgs};
use crate::{Context, Error};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What became of one item, or in check mode what would: serialised as the words the results
/// have always used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// To be done (in check mode: would be done).
    Planned,
    Done,
    /// Left alone on purpose: reported only, not confirmed, or done by an earlier run.
    Skipped,
    Failed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Planned,
        Status::Done,
        Status::Skipped,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Done => "done",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }

    /// The status a script printed; `None` for any other word.
    pub fn parse(word: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// Done, or skipped: nothing is left to do for the item.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Done | Status::Skipped)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Status {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One thing a module plans and a script handles.
pub trait Item {
    fn status(&self) -> Status;
    /// Sets what became of it, with the message that says so.
    fn set(&mut self, status: Status, message: String);
    /// How the first-failure message names it, e.g. `Files 1234`.
    fn name(&self) -> String;
    fn message(&self) -> &str;
}

/// The script of a module: its Jython `body`, after the prelude the runner puts first, with the
/// Communities admin script loaded.
pub fn script(body: impl Into<std::borrow::Cow<'static, str>>) -> Script {
    Script::new(body).load(crate::apps::COMMUNITIES_SCRIPT)
}

/// The ARGS word scripts read check mode from.
pub fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

/// Runs a script whose output the module reads itself.
pub fn execute(args: &WsadminArgs, script: &Script, ctx: &Context) -> Result<Output, Error> {
    super::run(args, script, ctx.tmpdir.as_deref())
}

/// Checks the wsadmin options before the module makes anything on the host (its folders, its
/// state); in check mode nothing is made and wsadmin does not start, so they are not needed.
pub fn prepare(ctx: &Context, args: &WsadminArgs) -> Result<(), Error> {
    if ctx.check_mode {
        return Ok(());
    }
    super::validate(&args.normalized())
}

/// The indices of the items still planned: those the script gets a DATA row for.
pub fn todo<I: Item>(items: &[I]) -> Vec<usize> {
    (0..items.len())
        .filter(|&i| items[i].status() == Status::Planned)
        .collect()
}

/// Reads the `outcome` records (index, status, message) of `out` into `items`: `read` gets the
/// item, the printed status and message. A record naming no item, or another status, is passed
/// over (the item then counts as not reached).
pub fn read_outcomes<I: Item>(
    out: &Output,
    items: &mut [I],
    mut read: impl FnMut(&mut I, Status, &str),
) {
    for r in out.tagged("outcome") {
        let item = r.field(0).parse::<usize>().ok();
        let (Some(item), Some(status)) = (
            item.and_then(|i| items.get_mut(i)),
            Status::parse(r.field(1)),
        ) else {
            continue;
        };
        read(item, status, r.field(2));
    }
}

/// Marks the items of `todo` that are still planned as failed: `wsadmin ended before this
/// <what>`. Returns the indices it marked.
pub fn ended_before<I: Item>(items: &mut [I], todo: &[usize], what: &str) -> Vec<usize> {
    let mut marked = Vec::new();
    for &i in todo {
        if items[i].status() == Status::Planned {
            items[i].set(Status::Failed, format!("wsadmin ended before this {what}"));
            marked.push(i);
        }
    }
    marked
}

/// Runs `script` (its DATA rows already those of `todo`) and reads its outcome records into
/// `items` with `read`; the items of `todo` it did not reach are marked with [`ended_before`]
/// (`what` ends the message). The output is returned for what else the module reads from it.
pub fn run<I: Item>(
    args: &WsadminArgs,
    script: &Script,
    ctx: &Context,
    items: &mut [I],
    todo: &[usize],
    what: &str,
    read: impl FnMut(&mut I, Status, &str),
) -> Result<Output, Error> {
    let out = execute(args, script, ctx)?;
    read_outcomes(&out, items, read);
    ended_before(items, todo, what);
    Ok(out)
}

/// The `counts` result key: how many items have each status, and in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub done: usize,
    pub failed: usize,
    pub planned: usize,
    pub skipped: usize,
    pub total: usize,
    /// The first failure, as [`Counts::failures`] names it.
    #[serde(skip)]
    first_failure: Option<usize>,
}

impl Counts {
    pub fn of<'a, I: Item + 'a>(items: impl IntoIterator<Item = &'a I>) -> Counts {
        let mut c = Counts::default();
        for (i, item) in items.into_iter().enumerate() {
            c.total += 1;
            match item.status() {
                Status::Planned => c.planned += 1,
                Status::Done => c.done += 1,
                Status::Skipped => c.skipped += 1,
                Status::Failed => {
                    c.failed += 1;
                    c.first_failure.get_or_insert(i);
                }
            }
        }
        c
    }

    /// `<name>: <message>` of the first failed item of `items` (those counted), or "".
    pub fn first_failure<'a, I: Item + 'a>(
        &self,
        items: impl IntoIterator<Item = &'a I>,
    ) -> String {
        self.first_failure
            .and_then(|n| items.into_iter().nth(n))
            .map(|i| format!("{}: {}", i.name(), i.message()))
            .unwrap_or_default()
    }

    /// `2 of 5 <what> failed (3 done, 0 skipped); first: <name>: <message>`.
    pub fn failures<'a, I: Item + 'a>(
        &self,
        what: &str,
        items: impl IntoIterator<Item = &'a I>,
    ) -> String {
        format!(
            "{} of {} {what} failed ({} done, {} skipped); first: {}",
            self.failed,
            self.total,
            self.done,
            self.skipped,
            self.first_failure(items)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call named by a letter, with its status and message.
    #[derive(Debug)]
    struct Call(&'static str, Status, String);

    impl Item for Call {
        fn status(&self) -> Status {
            self.1
        }
        fn set(&mut self, status: Status, message: String) {
            (self.1, self.2) = (status, message);
        }
        fn name(&self) -> String {
            format!("call {}", self.0)
        }
        fn message(&self) -> &str {
            &self.2
        }
    }

    fn calls(statuses: &[Status]) -> Vec<Call> {
        ["a", "b", "c", "d", "e"]
            .into_iter()
            .zip(statuses)
            .map(|(id, &status)| Call(id, status, String::new()))
            .collect()
    }

    fn output(text: &str) -> Output {
        Output {
            records: super::super::parse_records(text),
            text: text.to_string(),
        }
    }

    #[test]
    fn statuses_are_the_words_of_the_results() {
        let words: Vec<String> = Status::ALL
            .iter()
            .map(|s| {
                serde_json::to_value(s)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(words, ["planned", "done", "skipped", "failed"]);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            assert!(s == s.as_str());
        }
        assert_eq!(Status::parse("Done"), None);
        assert!(Status::Skipped.is_finished() && !Status::Failed.is_finished());
    }

    #[test]
    fn outcome_records_go_to_their_items_and_the_rest_is_marked() {
        use Status::*;
        let mut items = calls(&[Planned, Skipped, Planned, Planned, Planned]);
        let todo = todo(&items);
        assert_eq!(todo, [0, 2, 3, 4]);
        let out = output(
            "@@lcr@@\toutcome\t2\tfailed\tboom\n@@lcr@@\toutcome\t0\tdone\tok\n\
             @@lcr@@\toutcome\t9\tdone\tno such item\n@@lcr@@\toutcome\t3\tunknown\tx\n",
        );
        read_outcomes(&out, &mut items, |c, s, m| c.set(s, format!("<{m}>")));
        let marked = ended_before(&mut items, &todo, "call was made");
        assert_eq!(marked, [3, 4]);
        let got: Vec<(Status, &str)> = items.iter().map(|c| (c.1, c.2.as_str())).collect();
        assert_eq!(
            got,
            [
                (Done, "<ok>"),
                (Skipped, ""),
                (Failed, "<boom>"),
                (Failed, "wsadmin ended before this call was made"),
                (Failed, "wsadmin ended before this call was made"),
            ]
        );
        let counts = Counts::of(&items);
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            r#"{"done":1,"failed":3,"planned":0,"skipped":1,"total":5}"#
        );
        assert_eq!(
            counts.failures("calls", &items),
            "3 of 5 calls failed (1 done, 1 skipped); first: call c: <boom>"
        );
    }

    #[test]
    fn no_failure_names_nothing() {
        let items = calls(&[Status::Done, Status::Planned]);
        let counts = Counts::of(&items);
        assert_eq!((counts.done, counts.planned, counts.total), (1, 1, 2));
        assert_eq!(counts.first_failure(&items), "");
        assert_eq!(flag(true), "1");
        assert_eq!(flag(false), "0");
    }
}
