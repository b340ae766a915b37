//! "Did you mean": the known name nearest to a mistyped command or option, for the
//! usage error (pure).

use super::{Arg, Opt, COMMANDS, GLOBAL_OPTIONS};

/// The optimal-string-alignment distance between `a` and `b`: the fewest inserted,
/// deleted or replaced characters, or swapped neighbours, that turn one into the other.
///
/// ```
/// use aws_session::cmd::suggest::distance;
/// assert_eq!(distance("exce", "exec"), 1);
/// assert_eq!(distance("statsu", "status"), 1);
/// assert_eq!(distance("profil", "profile"), 1);
/// assert_eq!(distance("login", "logout"), 3);
/// ```
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two rows back (for a swap), the last one, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

/// The candidate nearest to `typed`, when it is near enough to be a typo: at most one
/// edit for a name of up to four characters, two for a longer one, and a third of the
/// name at most; the first candidate wins a tie. A candidate `typed` begins (`cred` for
/// `credential-process`) counts too.
///
/// ```
/// use aws_session::cmd::suggest::nearest;
/// assert_eq!(nearest("exce", ["shell", "exec", "export"]), Some("exec"));
/// assert_eq!(nearest("frobnicate", ["shell", "exec"]), None);
/// assert_eq!(nearest("cred", ["clear", "credential-process"]), Some("credential-process"));
/// ```
pub fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = typed.chars().count();
    let limit = if len <= 4 { 1 } else { 2.min(len / 3).max(1) };
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == typed {
            continue;
        }
        let d = if len >= 3 && c.starts_with(typed) {
            1
        } else {
            distance(typed, c)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `: did you mean "NAME"?` for a mistyped command, or nothing.
pub fn command_hint(typed: &str) -> String {
    let names = COMMANDS.iter().map(|c| c.name).chain(["help"]);
    nearest(typed, names)
        .map(|n| format!(": did you mean \"{n}\"?"))
        .unwrap_or_default()
}

/// `: did you mean --NAME?` for a mistyped long option, among `options` and the global
/// ones, or nothing (a short option is one letter: no guess).
pub fn option_hint<'a>(arg: &Arg, options: impl IntoIterator<Item = &'a Opt>) -> String {
    let Arg::Long(typed) = arg else {
        return String::new();
    };
    let globals = GLOBAL_OPTIONS.iter().map(|g| &g.opt);
    let names = options.into_iter().chain(globals).map(|o| o.long);
    nearest(typed, names)
        .map(|n| format!(": did you mean --{n}?"))
        .unwrap_or_default()
}

/// [`option_hint`] among the options of every command (an option before the command's
/// name may be any command's).
pub fn any_option_hint(arg: &Arg) -> String {
    option_hint(arg, COMMANDS.iter().flat_map(|c| c.options.iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_of_every_command_and_option_find_it() {
        // A command with its last letter dropped, or two letters swapped, is found.
        for c in COMMANDS.iter().filter(|c| c.name.len() > 4) {
            let names = || COMMANDS.iter().map(|c| c.name);
            let dropped = &c.name[..c.name.len() - 1];
            assert_eq!(nearest(dropped, names()), Some(c.name), "{dropped}");
            let mut swapped: Vec<char> = c.name.chars().collect();
            swapped.swap(1, 2);
            let swapped: String = swapped.into_iter().collect();
            assert_eq!(nearest(&swapped, names()), Some(c.name), "{swapped}");
        }
        assert_eq!(command_hint("exce"), ": did you mean \"exec\"?");
        assert_eq!(command_hint("hlep"), ": did you mean \"help\"?");
        assert_eq!(command_hint("frobnicate"), "");
        let long = |s: &str| Arg::Long(s.into());
        assert_eq!(
            any_option_hint(&long("profil")),
            ": did you mean --profile?"
        );
        assert_eq!(
            any_option_hint(&long("no-cahce")),
            ": did you mean --no-cache?"
        );
        assert_eq!(any_option_hint(&long("nope")), "");
        assert_eq!(any_option_hint(&Arg::Short('x')), "");
    }

    #[test]
    fn distance_is_symmetric_and_zero_only_for_equal_names() {
        for (a, b) in [
            ("shell", "shlel"),
            ("", "abc"),
            ("status", "stats"),
            ("a", "b"),
        ] {
            assert_eq!(distance(a, b), distance(b, a));
            assert!(distance(a, b) > 0);
        }
        assert_eq!(distance("export", "export"), 0);
        assert_eq!(distance("", "abc"), 3);
    }
}
