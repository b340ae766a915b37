//! The sub-shell and the exec'd command: rc-file text (pure), the prompt prefix (pure),
//! and the functions that start processes (the only ones in the crate).
//!
//! bash gets `--rcfile` with a generated file that sources `~/.bashrc` first; zsh a
//! private ZDOTDIR whose `.zshenv`/`.zshrc` source the user's own; fish an
//! `--init-command` that wraps `fish_prompt`. The rc text holds no secret: the
//! credentials travel in the environment only.

use crate::error::{Error, Result};
use crate::fsutil::{self, AtSymlink, PrivateDirError};

pub mod process;
pub mod quote;
pub mod supervise;

/// What the child's environment gets: `Some(v)` sets, `None` unsets.
pub type EnvChanges = Vec<(&'static str, Option<String>)>;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Seconds before expiry at which the `aws` function refreshes first.
pub const REFRESH_MARGIN_SECS: i64 = 60;

/// Which shell integration applies to a `$SHELL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    /// Anything else: run it, without prompt or refresh.
    Other,
}

/// The kind of shell a path names (by its file name).
///
/// ```
/// use aws_session::shell::{shell_kind, ShellKind};
/// assert_eq!(shell_kind("/usr/bin/zsh"), ShellKind::Zsh);
/// assert_eq!(shell_kind("/bin/sh"), ShellKind::Other);
/// ```
pub fn shell_kind(shell: &str) -> ShellKind {
    match shell.rsplit('/').next().unwrap_or(shell) {
        "bash" => ShellKind::Bash,
        "zsh" => ShellKind::Zsh,
        "fish" => ShellKind::Fish,
        _ => ShellKind::Other,
    }
}

/// How the prompt wraps colour escapes so line editing counts them as zero-width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeStyle {
    /// `\[ … \]` (bash PS1).
    Bash,
    /// `%{ … %}` (zsh prompts).
    Zsh,
    /// Bare escapes (fish, `aws-session prompt`).
    Plain,
}

/// The longest an AWS session lasts (GetSessionToken's 36 h, `aws::sts`) plus 300 s of
/// slack (a test in `cmd/prompt.rs` keeps the two equal): an
/// AWS_SESSION_EXPIRATION further ahead is not one aws-session set, and the prompt
/// shows it as expired.
pub const LONGEST_SESSION_SECS: i64 = 36 * 3600 + 300;

/// The prompt prefix for `remaining` seconds: `(aws+12h) `, `(aws+45m) `, `(aws+59s) `,
/// `(aws!exp) `; yellow under 5 minutes and red under 1 when `color`.
/// The shell code this module generates follows the same rules.
///
/// ```
/// use aws_session::shell::{prompt_prefix, EscapeStyle};
/// assert_eq!(prompt_prefix(43200, false, EscapeStyle::Plain), "(aws+12h) ");
/// assert_eq!(prompt_prefix(0, false, EscapeStyle::Plain), "(aws!exp) ");
/// ```
pub fn prompt_prefix(remaining: i64, color: bool, style: EscapeStyle) -> String {
    let (sym, mut t) = if remaining >= 6000 {
        ('+', format!("{}h", remaining / 3600))
    } else if remaining >= 100 {
        ('+', format!("{}m", remaining / 60))
    } else if remaining > 0 {
        ('+', format!("{remaining}s"))
    } else {
        ('!', "exp".to_string())
    };
    if t.len() < 3 {
        t.insert(0, '0');
    }
    let (clr, rst) = if color && remaining < 300 {
        let c = if remaining >= 60 {
            "\x1b[33m"
        } else {
            "\x1b[31m"
        };
        let r = "\x1b[39m";
        match style {
            EscapeStyle::Bash => (format!("\\[{c}\\]"), format!("\\[{r}\\]")),
            EscapeStyle::Zsh => (format!("%{{{c}%}}"), format!("%{{{r}%}}")),
            EscapeStyle::Plain => (c.to_string(), r.to_string()),
        }
    } else {
        (String::new(), String::new())
    };
    format!("(aws{sym}{clr}{t}{rst}) ")
}

/// Whether the prompt is coloured: AWS_SESSION_COLOR (or AWS_SESSION_COLORS) = 0/1
/// decides; NO_COLOR turns it off; otherwise on for a terminal that is not `dumb`.
/// A value of AWS_SESSION_COLOR(S) that is not a boolean is an error naming it, even
/// with NO_COLOR set.
pub fn color_enabled(get: impl Fn(&str) -> Option<String>, stdout_is_tty: bool) -> Result<bool> {
    let mut chosen = None;
    for k in ["AWS_SESSION_COLOR", "AWS_SESSION_COLORS"] {
        if let Some(v) = get(k) {
            if let Some(b) = crate::env::parse_bool(k, &v)? {
                chosen = chosen.or(Some(b));
            }
        }
    }
    if get("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return Ok(false);
    }
    Ok(chosen.unwrap_or_else(|| {
        stdout_is_tty && get("TERM").is_some_and(|t| !t.is_empty() && t != "dumb")
    }))
}

/// Shell functions shared by bash and zsh (both read this text; `(( ))` and
/// `function name { }`, which no alias of the same name can break).
fn common_rc(style: EscapeStyle) -> String {
    let (c_open, c_close) = match style {
        EscapeStyle::Bash => (r"\[", r"\]"),
        EscapeStyle::Zsh => ("%{", "%}"),
        EscapeStyle::Plain => ("", ""),
    };
    let now = match style {
        // bash ≥ 4.2 formats the time itself: no fork per prompt.
        EscapeStyle::Bash => {
            r#"printf -v __aws_session_now '%(%s)T' -1 2>/dev/null || __aws_session_now=$(date +%s)"#
        }
        _ => r#"__aws_session_now=${EPOCHSECONDS:-$(date +%s)}"#,
    };
    // A `!` in the prompt is the history number where the shell expands it (bash in
    // POSIX mode, zsh with PROMPT_BANG); `!!` is a literal `!` there.
    let bang = match style {
        EscapeStyle::Bash => "shopt -oq posix && sym='!!'",
        _ => "[[ -o promptbang ]] && sym='!!'",
    };
    format!(
        r#"# aws-session: shell integration (generated; holds no secrets)
function __aws_session_now {{
  {now}
}}
# A boolean variable's value ($1) read as aws-session reads it: 1/true/yes/on in any
# case is on, 0/false/no/off is off; anything else (or nothing) is $2 (on or off).
function __aws_session_flag {{
  case "$1" in
    (1|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss]|[Oo][Nn]) return 0 ;;
    (0|[Ff][Aa][Ll][Ss][Ee]|[Nn][Oo]|[Oo][Ff][Ff]) return 1 ;;
  esac
  [ "$2" = on ]
}}
{numbers}# AWS_SESSION_EXPIRATION as a number (0 and false when it is none).
function __aws_session_exp {{
  __aws_session_exp=0
  __aws_session_num "${{AWS_SESSION_EXPIRATION-}}" || return 1
  __aws_session_exp=$__aws_session_num
}}
# True while the session has more than {margin} s left.
function aws-session-valid {{
  __aws_session_now
  __aws_session_exp
  (( __aws_session_now < __aws_session_exp - {margin} ))
}}
# New credentials (asks for a code); options go to `aws-session refresh`.
function aws-session-refresh {{
  local __aws_session_env
  __aws_session_env="$("${{AWS_SESSION:-aws-session}}" refresh "$@")" || return $?
  eval "$__aws_session_env"
}}
function __aws_session_set_prefix {{
  local exp t sym=+ clr= rst= end
  __aws_session_prefix=
  __aws_session_now
  # No number: not a session of ours, no prefix (as `aws-session prompt`).
  __aws_session_exp || return 0
  # A sign-in (login) shows how long it lasts, not its 15-minute credentials.
  end=$__aws_session_exp
  if __aws_session_num "${{AWS_SESSION_LOGIN_UNTIL-}}"; then end=$__aws_session_num; fi
  (( exp = end - __aws_session_now ))
  (( exp <= {longest} )) || exp=0
  if (( exp >= 6000 )); then t="$(( exp / 3600 ))h"
  elif (( exp >= 100 )); then t="$(( exp / 60 ))m"
  elif (( exp > 0 )); then t="${{exp}}s"
  else t=exp; sym='!'; {bang}; fi
  [ "${{#t}}" -ge 3 ] || t="0$t"
  if __aws_session_flag "${{AWS_SESSION_COLOR-}}" off && [ -z "${{NO_COLOR-}}" ] && (( exp < 300 )); then
    if (( exp >= 60 )); then clr=$'\e[33m'; else clr=$'\e[31m'; fi
    clr="{c_open}$clr{c_close}" rst="{c_open}"$'\e[39m'"{c_close}"
  fi
  __aws_session_prefix="(aws$sym$clr$t$rst) "
}}
# The prompt hook: take off the prefix added last time (so it never stacks), then
# add the current one; AWS_SESSION_PROMPT=0 (starship, p10k) adds none. Keeps $?.
function aws-session-prompt {{
  local rc=$?
  if [ -n "${{__aws_session_prefix-}}" ]; then PS1="${{PS1#"$__aws_session_prefix"}}"; fi
  __aws_session_prefix=
  if __aws_session_flag "${{AWS_SESSION_PROMPT-}}" on; then
    __aws_session_set_prefix
    PS1="$__aws_session_prefix$PS1"
  fi
  return $rc
}}
# The AWS CLI, refreshed first when the session is over or about to be (a role
# session rides on the cached MFA session while that lasts: no code needed).
function aws {{
  aws-session-valid || aws-session-refresh --reuse-mfa || return $?
  command aws "$@"
}}
# At exit: remove this shell's parent stash (the file holding the keys a refresh is
# made from, named with this shell's pid); a nested shell's is its own.
function __aws_session_forget {{
  case "${{AWS_SESSION_PARENT_STASH-}}" in (*/parent-$$-*.json) command rm -f -- "$AWS_SESSION_PARENT_STASH" ;; esac
}}
"#,
        margin = REFRESH_MARGIN_SECS,
        longest = LONGEST_SESSION_SECS,
        numbers = NUMBER_RC
    )
}

/// How bash and zsh read a number of ours (AWS_SESSION_EXPIRATION): as
/// `aws-session prompt` reads it.
const NUMBER_RC: &str = r#"# $1 as a decimal number, as `aws-session prompt` reads it, in __aws_session_num:
# leading zeros dropped (never octal); a negative number, or one longer than 11 digits
# (so no arithmetic on it can overflow), is 0. False when $1 is empty or not digits.
function __aws_session_num {
  local v=${1#-}
  case $v in (''|*[!0-9]*) return 1 ;; esac
  v=${v#"${v%%[!0]*}"}
  case $1 in (-*) v=0 ;; esac
  case $v in (''|????????????*) v=0 ;; esac
  __aws_session_num=$v
}
"#;

/// The bash rc file: the user's `~/.bashrc` first, then our functions and hook.
///
/// Our hook runs after the user's PROMPT_COMMAND: theirs sees the command's exit
/// status first-hand, and a hook that rebuilds PS1 (`__git_ps1`, themes) does not
/// wipe the prefix. bash restores `$?` after PROMPT_COMMAND for PS1 by itself.
///
/// The text is bash 3.2's (macOS's /bin/bash): a newer feature only where it is
/// tried and has a fallback. POSIX mode (a `.bashrc` with `set -o posix`) refuses
/// function names with a `-`, so the functions are defined outside it and the mode
/// is put back; they run in it.
pub fn bash_rc() -> String {
    format!(
        r#"[ -f ~/.bashrc ] && source ~/.bashrc
__aws_session_posix=
if shopt -oq posix; then __aws_session_posix=1; set +o posix; fi
{common}
# PROMPT_COMMAND is an array from bash 5.1 on, when the user made it one.
if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  PROMPT_COMMAND+=(aws-session-prompt)
else
  # A newline, not `;`: the user's command may end in `;`, `&` or a comment.
  PROMPT_COMMAND="${{PROMPT_COMMAND:+$PROMPT_COMMAND
}}aws-session-prompt"
fi
# An EXIT trap of the user's own is kept (the stash then goes at a later run).
[ -n "$(trap -p EXIT)" ] || trap __aws_session_forget EXIT
if [ -n "$__aws_session_posix" ]; then set -o posix; fi
unset __aws_session_posix
"#,
        common = common_rc(EscapeStyle::Bash)
    )
}

/// The zsh `.zshenv` of the private ZDOTDIR: the user's own `.zshenv`, read with
/// ZDOTDIR as zsh would have it (the caller's, or unset). When it sets ZDOTDIR (an
/// XDG layout), that is where the user's `.zshrc` is, and what ZDOTDIR stays.
pub fn zsh_env() -> String {
    r#"# aws-session: zshenv (generated)
if [ -n "${AWS_SESSION_ZDOTREAL_SET-}" ]; then ZDOTDIR="$AWS_SESSION_ZDOTREAL"; else unset ZDOTDIR; fi
if [ -f "${ZDOTDIR:-$HOME}/.zshenv" ]; then source "${ZDOTDIR:-$HOME}/.zshenv"; fi
if [ -n "${ZDOTDIR-}" ]; then
  AWS_SESSION_ZDOTREAL="$ZDOTDIR" AWS_SESSION_ZDOTREAL_SET=1 AWS_SESSION_ZDOTREAL_EXPORT=
  [[ ${(t)ZDOTDIR} == *export* ]] && AWS_SESSION_ZDOTREAL_EXPORT=1
else
  unset AWS_SESSION_ZDOTREAL_SET
fi
ZDOTDIR="$AWS_SESSION_ZDOTDIR"
"#
    .to_string()
}

/// The zsh `.zshrc` of the private ZDOTDIR: the user's `.zshrc`, then our functions
/// and a precmd hook (added last, after the user's); ZDOTDIR goes back to what it was
/// without us, so history and nested shells are the user's.
pub fn zsh_rc() -> String {
    format!(
        r#"# aws-session: zshrc (generated)
__aws_session_zdot="${{AWS_SESSION_ZDOTREAL:-$HOME}}"
ZDOTDIR="$__aws_session_zdot"
if [ -f "$ZDOTDIR/.zshrc" ]; then
  source "$ZDOTDIR/.zshrc"
fi
if [ "${{ZDOTDIR-}}" = "$__aws_session_zdot" ]; then
  if [ -z "${{AWS_SESSION_ZDOTREAL_SET-}}" ]; then unset ZDOTDIR
  elif [ -z "${{AWS_SESSION_ZDOTREAL_EXPORT-}}" ]; then typeset +x ZDOTDIR; fi
fi
unset AWS_SESSION_ZDOTDIR AWS_SESSION_ZDOTREAL AWS_SESSION_ZDOTREAL_SET AWS_SESSION_ZDOTREAL_EXPORT __aws_session_zdot
zmodload zsh/datetime 2>/dev/null
{common}
autoload -Uz add-zsh-hook 2>/dev/null && add-zsh-hook precmd aws-session-prompt || precmd_functions+=(aws-session-prompt)
zshexit_functions+=(__aws_session_forget)
"#,
        common = common_rc(EscapeStyle::Zsh)
    )
}

/// The fish init command (`fish --init-command`, run after config.fish): functions,
/// the user's `fish_prompt` wrapped (it still sees `$status`), and `aws`.
pub fn fish_init() -> String {
    format!(
        r#"# aws-session: fish integration (generated; holds no secrets)
function __aws_session_exe
    if test -n "$AWS_SESSION"
        echo $AWS_SESSION
    else
        echo aws-session
    end
end
# True while the session has more than {margin} s left.
function aws-session-valid
    string match -qr '^[0-9]{{1,11}}$' -- "$AWS_SESSION_EXPIRATION"; or return 1
    test (date +%s) -lt (math "$AWS_SESSION_EXPIRATION - {margin}")
end
# New credentials (asks for a code); options go to `aws-session refresh`.
function aws-session-refresh
    set -l exe (__aws_session_exe)
    set -l out ($exe refresh --format fish $argv)
    or return $status
    printf '%s\n' $out | source
    # The status of `source` is its last line's: `set -e` of a variable that is
    # not set says 4, though every credential is in place.
    return 0
end
function __aws_session_restore_status
    return $argv[1]
end
# A boolean variable's value ($argv[1]) read as aws-session reads it: 1/true/yes/on in
# any case is on, 0/false/no/off is off; anything else (or nothing) is $argv[2].
function __aws_session_flag
    switch (string lower -- "_$argv[1]")
        case _1 _true _yes _on
            return 0
        case _0 _false _no _off
            return 1
    end
    test "$argv[2]" = on
end
if functions -q fish_prompt; and not functions -q __aws_session_user_prompt
    functions -c fish_prompt __aws_session_user_prompt
end
function fish_prompt
    set -l s $status
    if __aws_session_flag "$AWS_SESSION_PROMPT" on
        set -l exe (__aws_session_exe)
        $exe prompt
    end
    if functions -q __aws_session_user_prompt
        __aws_session_restore_status $s
        __aws_session_user_prompt
    else
        printf '> '
    end
end
# The AWS CLI, refreshed first when the session is over or about to be (a role
# session rides on the cached MFA session while that lasts: no code needed).
function aws --wraps aws
    if not aws-session-valid
        aws-session-refresh --reuse-mfa; or return $status
    end
    command aws $argv
end
# At exit: remove this shell's parent stash (named with its pid); a nested shell's is
# its own.
function __aws_session_forget --on-event fish_exit
    if string match -q -- "*/parent-$fish_pid-*.json" "$AWS_SESSION_PARENT_STASH"
        command rm -f -- $AWS_SESSION_PARENT_STASH
    end
end
"#,
        margin = REFRESH_MARGIN_SECS
    )
}

/// Replace this process with `argv`, with `changes` applied to the environment.
/// Returns only on failure.
pub fn exec(argv: &[OsString], changes: &EnvChanges) -> Error {
    match command(argv, changes) {
        Ok(mut cmd) => {
            let e = cmd.exec();
            exec_error(&argv[0].to_string_lossy(), &e)
        }
        Err(e) => e,
    }
}

/// `argv` as a command with `changes` applied to its environment.
pub fn command(argv: &[OsString], changes: &EnvChanges) -> Result<Command> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Error::Usage("exec needs a command".into()));
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    apply(&mut cmd, changes);
    Ok(cmd)
}

/// The program that opens a URL in a browser: the first of `browser` (`$BROWSER`, a
/// colon-separated list as the convention has it), else the system's opener for the
/// operating system `os` (a [`std::env::consts::OS`] name): `open` on macOS,
/// `xdg-open` on Linux and the BSDs.
///
/// ```
/// use aws_session::shell::browser_program;
/// assert_eq!(browser_program(None, "macos"), "open");
/// assert_eq!(browser_program(None, "linux"), "xdg-open");
/// assert_eq!(browser_program(Some("firefox:chromium"), "macos"), "firefox");
/// ```
pub fn browser_program<'a>(browser: Option<&'a str>, os: &str) -> &'a str {
    let system = match os {
        "macos" => "open",
        _ => "xdg-open",
    };
    browser
        .and_then(|b| b.split(':').map(str::trim).find(|p| !p.is_empty()))
        .unwrap_or(system)
}

/// Open `url` in a browser ([`browser_program`] for this system). Never through a
/// shell: the URL is one argument. A program that ends with a failure within
/// [`BROWSER_CHECK`] (xdg-open finding no browser) is an error; one still running then
/// is left to run (a thread reaps it). The error names the program.
pub fn open_browser(url: &str, browser: Option<&str>) -> std::result::Result<(), String> {
    let program = browser_program(browser, std::env::consts::OS);
    let mut child = Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let began = std::time::Instant::now();
    while began.elapsed() < BROWSER_CHECK {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("{program} failed ({status})")),
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    // Without a thread (the process limit) the browser is reaped when we exit.
    let _ = std::thread::Builder::new()
        .name("browser".into())
        .spawn(move || child.wait());
    Ok(())
}

/// How long [`open_browser`] waits to see whether the opener fails at once.
pub const BROWSER_CHECK: std::time::Duration = std::time::Duration::from_millis(1500);

fn exec_error(program: &str, e: &std::io::Error) -> Error {
    Error::Exec {
        program: program.to_string(),
        not_found: e.kind() == std::io::ErrorKind::NotFound,
        detail: e.to_string(),
    }
}

fn apply(cmd: &mut Command, changes: &EnvChanges) {
    for (k, v) in changes {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
}

/// Start `$SHELL -i` with the session environment and the integration for its kind.
/// `rc_dir` is a private directory for rc files. Returns only on failure.
pub fn exec_shell(
    shell: &str,
    changes: &EnvChanges,
    rc_dir: Option<&Path>,
    zdotdir_real: Option<&str>,
) -> Error {
    let e = shell_command(shell, changes, rc_dir, zdotdir_real).exec();
    exec_error(shell, &e)
}

/// `$SHELL -i` with the session environment and the integration for its kind (see
/// [`exec_shell`]).
pub fn shell_command(
    shell: &str,
    changes: &EnvChanges,
    rc_dir: Option<&Path>,
    zdotdir_real: Option<&str>,
) -> Command {
    let kind = shell_kind(shell);
    let mut cmd = Command::new(shell);
    apply(&mut cmd, changes);
    match (kind, rc_dir) {
        (ShellKind::Bash, Some(dir)) => match write_private(&dir.join("bashrc"), &bash_rc()) {
            Ok(path) => {
                cmd.arg("--rcfile").arg(path).arg("-i");
            }
            Err(e) => {
                note_no_integration(shell, &e);
                cmd.arg("-i");
            }
        },
        (ShellKind::Zsh, Some(dir)) => {
            let written = write_private(&dir.join(".zshenv"), &zsh_env())
                .and_then(|_| write_private(&dir.join(".zshrc"), &zsh_rc()));
            match written {
                Ok(_) => {
                    match zdotdir_real {
                        Some(real) => {
                            cmd.env("AWS_SESSION_ZDOTREAL", real);
                            cmd.env("AWS_SESSION_ZDOTREAL_SET", "1");
                        }
                        None => {
                            cmd.env_remove("AWS_SESSION_ZDOTREAL_SET");
                            if let Some(home) = std::env::var_os("HOME") {
                                cmd.env("AWS_SESSION_ZDOTREAL", home);
                            }
                        }
                    }
                    cmd.env("AWS_SESSION_ZDOTDIR", dir);
                    cmd.env("ZDOTDIR", dir);
                }
                Err(e) => note_no_integration(shell, &e),
            }
            cmd.arg("-i");
        }
        (ShellKind::Fish, _) => {
            cmd.arg("--init-command").arg(fish_init()).arg("-i");
        }
        (ShellKind::Other, _) => {
            crate::msg::note(format_args!(
                "{shell} is not bash, zsh or fish: no prompt prefix or automatic refresh; for new credentials run: eval \"$(\"$AWS_SESSION\" refresh)\""
            ));
            cmd.arg("-i");
        }
        // The caller already said why there is no private directory.
        (_, None) => {
            cmd.arg("-i");
        }
    }
    cmd
}

fn note_no_integration(shell: &str, e: &Error) {
    crate::msg::note(format_args!(
        "{e}; {shell} starts without the prompt and automatic refresh"
    ));
}

/// The private directory for rc files: `$XDG_RUNTIME_DIR/aws-session`, else
/// `${TMPDIR:-/tmp}/aws-session-<uid>`. Created 0700 and reused; refused when it is
/// a symlink, not ours, or writable by others; read access of others is taken away
/// (the rules of [`fsutil::ensure_private_dir`]).
pub fn private_dir(xdg_runtime_dir: Option<&str>, tmpdir: Option<&str>) -> Result<PathBuf> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let (dir, fix) = match xdg_runtime_dir.filter(|d| d.starts_with('/') && Path::new(d).is_dir()) {
        Some(d) => (
            Path::new(d).join("aws-session"),
            "fix XDG_RUNTIME_DIR or unset it to use TMPDIR",
        ),
        None => (
            Path::new(tmpdir.filter(|t| t.starts_with('/')).unwrap_or("/tmp"))
                .join(format!("aws-session-{uid}")),
            "set TMPDIR to a writable directory of your own",
        ),
    };
    let shown = dir.display();
    fsutil::ensure_private_dir(&dir).map_err(|e| {
        Error::Local(match e {
            PrivateDirError::Create(e) => format!("cannot create {shown}: {e} ({fix})"),
            PrivateDirError::Inspect(e) => format!("cannot inspect {shown}: {e} ({fix})"),
            PrivateDirError::NotOurs => format!(
                "{shown} is not a directory owned by you (someone else may have made it): remove it, or {fix}"
            ),
            // Others could have put files in it (a .zshrc of theirs): do not use it.
            PrivateDirError::WritableByOthers(mode) => format!(
                "{shown} is writable by others (mode {mode:o}): remove it, or {fix}"
            ),
            PrivateDirError::Tighten(e) => {
                format!("cannot make {shown} private (0700): {e} ({fix})")
            }
        })
    })?;
    Ok(dir)
}

/// Write `text` to `path` atomically (temp file in the same directory, 0600, rename;
/// see [`fsutil::write_atomic`]). A symlink at `path` is replaced, never followed: the
/// directory is ours ([`private_dir`]), so a link there is at best stale.
pub fn write_private(path: &Path, text: &str) -> Result<PathBuf> {
    fsutil::write_atomic(path, text.as_bytes(), 0o600, AtSymlink::Replace)
        .map_err(|e| Error::Local(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_is_browser_else_the_system_opener() {
        assert_eq!(browser_program(None, "macos"), "open");
        for os in ["linux", "freebsd", "openbsd", "netbsd"] {
            assert_eq!(browser_program(None, os), "xdg-open", "{os}");
        }
        assert_eq!(browser_program(Some(""), "macos"), "open");
        assert_eq!(browser_program(Some(" : w3m :lynx"), "linux"), "w3m");
        assert_eq!(browser_program(Some("firefox"), "macos"), "firefox");
    }

    #[test]
    fn prefix_boundaries() {
        let p = |s| prompt_prefix(s, false, EscapeStyle::Plain);
        assert_eq!(p(43200), "(aws+12h) ");
        assert_eq!(p(6000), "(aws+01h) ");
        assert_eq!(p(5999), "(aws+99m) ");
        assert_eq!(p(100), "(aws+01m) ");
        assert_eq!(p(99), "(aws+99s) ");
        assert_eq!(p(300), "(aws+05m) ");
        assert_eq!(p(60), "(aws+60s) ");
        assert_eq!(p(59), "(aws+59s) ");
        assert_eq!(p(1), "(aws+01s) ");
        assert_eq!(p(0), "(aws!exp) ");
        assert_eq!(p(-5), "(aws!exp) ");
    }

    #[test]
    fn prefix_colours() {
        assert_eq!(prompt_prefix(300, true, EscapeStyle::Plain), "(aws+05m) ");
        assert_eq!(
            prompt_prefix(299, true, EscapeStyle::Plain),
            "(aws+\x1b[33m04m\x1b[39m) "
        );
        assert_eq!(
            prompt_prefix(60, true, EscapeStyle::Plain),
            "(aws+\x1b[33m60s\x1b[39m) "
        );
        assert_eq!(
            prompt_prefix(59, true, EscapeStyle::Plain),
            "(aws+\x1b[31m59s\x1b[39m) "
        );
        assert_eq!(
            prompt_prefix(0, true, EscapeStyle::Plain),
            "(aws!\x1b[31mexp\x1b[39m) "
        );
        assert_eq!(
            prompt_prefix(10, true, EscapeStyle::Bash),
            "(aws+\\[\x1b[31m\\]10s\\[\x1b[39m\\]) "
        );
        assert_eq!(
            prompt_prefix(10, true, EscapeStyle::Zsh),
            "(aws+%{\x1b[31m%}10s%{\x1b[39m%}) "
        );
    }

    fn color_ok(get: impl Fn(&str) -> Option<String>, tty: bool) -> bool {
        color_enabled(get, tty).unwrap()
    }

    #[test]
    fn colour_choice() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(color_ok(env(&[("TERM", "xterm")]), true));
        assert!(!color_ok(env(&[("TERM", "dumb")]), true));
        assert!(!color_ok(env(&[("TERM", "xterm")]), false));
        assert!(color_ok(env(&[("AWS_SESSION_COLOR", "1")]), false));
        assert!(color_ok(env(&[("AWS_SESSION_COLORS", "1")]), false));
        assert!(!color_ok(
            env(&[("AWS_SESSION_COLOR", "0"), ("TERM", "xterm")]),
            true
        ));
        assert!(!color_ok(
            env(&[("NO_COLOR", "1"), ("AWS_SESSION_COLOR", "1")]),
            true
        ));
        assert!(color_enabled(env(&[("AWS_SESSION_COLOR", "maybe")]), true).is_err());
        assert!(color_ok(env(&[("AWS_SESSION_COLORS", "Yes")]), false));
    }

    #[test]
    fn shell_kinds() {
        assert_eq!(shell_kind("/bin/bash"), ShellKind::Bash);
        assert_eq!(shell_kind("fish"), ShellKind::Fish);
        assert_eq!(shell_kind("/usr/bin/dash"), ShellKind::Other);
    }

    /// Where `needle` is in `text` (the test fails when it is not there).
    fn at(text: &str, needle: &str) -> usize {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"))
    }

    #[test]
    fn bash_rc_sources_bashrc_first_and_hooks_in_last() {
        let b = bash_rc();
        assert!(b.starts_with("[ -f ~/.bashrc ] && source ~/.bashrc\n"));
        // Colour escapes are zero-width for readline.
        assert!(b.contains(r#"clr="\[$clr\]" rst="\["$'\e[39m'"\]""#));
        // Ours after the user's hook, joined by a newline (theirs may end in `;`).
        assert!(b.contains("PROMPT_COMMAND+=(aws-session-prompt)"));
        assert!(
            b.contains("PROMPT_COMMAND=\"${PROMPT_COMMAND:+$PROMPT_COMMAND\n}aws-session-prompt\"")
        );
        // The hook keeps $? and never stacks the prefix.
        let hook = at(&b, "function aws-session-prompt {");
        assert!(at(&b[hook..], "local rc=$?") < at(&b[hook..], "return $rc"));
        assert!(b.contains(r#"PS1="${PS1#"$__aws_session_prefix"}""#));
        // Functions are immune to user aliases of the same name.
        for name in ["aws", "aws-session-refresh", "aws-session-valid"] {
            assert!(b.contains(&format!("\nfunction {name} {{\n")), "{name}");
        }
        assert!(b.contains("shopt -oq posix && sym='!!'"));
    }

    /// The constructs of bash 4.0 and later, each with what it is. The bash rc uses
    /// none of them outside [`TRIED_WITH_FALLBACK`].
    const BASH_4_PLUS: &[(&str, &str)] = &[
        ("declare -A", "associative arrays (4.0)"),
        ("typeset -A", "associative arrays (4.0)"),
        ("local -A", "associative arrays (4.0)"),
        ("declare -n", "namerefs (4.3)"),
        ("local -n", "namerefs (4.3)"),
        ("declare -g", "global declarations (4.2)"),
        ("declare -l", "lower-case attribute (4.0)"),
        ("declare -u", "upper-case attribute (4.0)"),
        ("mapfile", "mapfile (4.0)"),
        ("readarray", "readarray (4.0)"),
        ("coproc", "coprocesses (4.0)"),
        ("|&", "pipe of stderr (4.0)"),
        ("&>>", "append of both streams (4.0)"),
        (";;&", "case fall-through (4.0)"),
        (";&", "case fall-through (4.0)"),
        ("EPOCHSECONDS", "$EPOCHSECONDS (5.0)"),
        ("EPOCHREALTIME", "$EPOCHREALTIME (5.0)"),
        ("BASHPID", "$BASHPID (4.0)"),
        ("globstar", "shopt globstar (4.0)"),
        ("lastpipe", "shopt lastpipe (4.2)"),
        ("autocd", "shopt autocd (4.0)"),
        ("wait -n", "wait -n (4.3)"),
        ("read -N", "read -N (4.1)"),
        ("[[ -v", "test -v (4.2)"),
        ("test -v", "test -v (4.2)"),
        ("%(", "printf's time format (4.2)"),
        ("exec {", "descriptor allocation {var}> (4.1)"),
        ("\\u", "\\u escapes in $'...' (4.2)"),
    ];

    /// Newer features the rc tries, each with the fallback bash 3.2 takes: the
    /// exact text, which [`bash_rc_uses_nothing_newer_than_bash_3_2`] takes out
    /// before it looks.
    const TRIED_WITH_FALLBACK: &[&str] =
        &["printf -v __aws_session_now '%(%s)T' -1 2>/dev/null || __aws_session_now=$(date +%s)"];

    /// Why `${...}` (its text between the braces) needs bash 4 or later: a case
    /// change (`${v,,}` `${v^^}` `${v,}` `${v^}`), a transformation (`${v@Q}`), or a
    /// negative subscript (`${a[-1]}`).
    fn newer_expansion(inner: &str) -> Option<&'static str> {
        let name_end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        if name_end == 0 {
            return None;
        }
        let rest = &inner[name_end..];
        if rest.starts_with(',') || rest.starts_with('^') {
            return Some("case modification (4.0)");
        }
        if rest.starts_with('@') {
            return Some("${var@op} transformations (4.4)");
        }
        if rest.starts_with("[-") {
            return Some("negative array subscripts (4.3)");
        }
        None
    }

    /// Every bash-4-or-later construct found in `text`, named.
    fn bash_4_constructs(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for line in text.lines() {
            let code = line.trim_start();
            if code.starts_with('#') {
                continue;
            }
            for (needle, what) in BASH_4_PLUS {
                // `;&` is also the end of `;;&`: counted once, as the longer one.
                let seen = if *needle == ";&" {
                    code.replace(";;&", "").contains(needle)
                } else {
                    code.contains(needle)
                };
                if seen {
                    found.push(format!("{what}: {line}"));
                }
            }
            for (i, _) in code.match_indices("${") {
                let inner = &code[i + 2..];
                let inner = &inner[..inner.find('}').unwrap_or(inner.len())];
                if let Some(what) = newer_expansion(inner) {
                    found.push(format!("{what}: {line}"));
                }
            }
        }
        found
    }

    /// The checker finds each construct it knows (so that a clean rc means something).
    #[test]
    fn the_bash_4_check_finds_what_it_looks_for() {
        for sample in [
            "x=${v,,}",
            "x=${v^^}",
            "x=${v^}",
            "x=${v@Q}",
            "x=${arr[-1]}",
            "declare -A m",
            "mapfile -t lines",
            "readarray a",
            "cmd |& cat",
            "cmd &>> log",
            "case $x in (a) ;;& esac",
            "echo $EPOCHSECONDS",
            "coproc cat",
            "printf -v t '%(%s)T' -1",
            "local -n ref=x",
            "exec {fd}>file",
        ] {
            assert_eq!(bash_4_constructs(sample).len(), 1, "{sample}");
        }
        for bash3 in [
            "x=${v:-a}",
            "x=${#t}",
            "x=${PS1#\"$p\"}",
            "x=${v:+$v}",
            "printf -v x '%s' y",
            "a+=(b)",
            "# ${v,,} in a comment",
        ] {
            assert!(bash_4_constructs(bash3).is_empty(), "{bash3}");
        }
    }

    #[test]
    fn bash_rc_uses_nothing_newer_than_bash_3_2() {
        let mut rc = bash_rc();
        for tried in TRIED_WITH_FALLBACK {
            assert_eq!(rc.matches(tried).count(), 1, "{tried}");
            rc = rc.replace(tried, "");
        }
        let found = bash_4_constructs(&rc);
        assert!(
            found.is_empty(),
            "bash 4+ in the bash rc:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn bash_rc_defines_its_functions_outside_posix_mode() {
        let b = bash_rc();
        let off = at(
            &b,
            "if shopt -oq posix; then __aws_session_posix=1; set +o posix; fi",
        );
        assert!(at(&b, "source ~/.bashrc") < off);
        assert!(off < at(&b, "function aws-session-valid {"));
        assert!(at(&b, "aws-session-prompt\"\nfi") < at(&b, "then set -o posix; fi"));
    }

    #[test]
    fn zsh_files_source_the_users_then_add_a_precmd_hook() {
        let env = zsh_env();
        assert!(
            at(&env, "source \"${ZDOTDIR:-$HOME}/.zshenv\"")
                < at(&env, "ZDOTDIR=\"$AWS_SESSION_ZDOTDIR\"")
        );
        // A ZDOTDIR the user's .zshenv sets is where their .zshrc is.
        assert!(env.contains("AWS_SESSION_ZDOTREAL=\"$ZDOTDIR\""));
        let z = zsh_rc();
        let user = at(&z, "source \"$ZDOTDIR/.zshrc\"");
        assert!(user < at(&z, "unset AWS_SESSION_ZDOTDIR"));
        assert!(user < at(&z, "add-zsh-hook precmd aws-session-prompt"));
        assert!(z.contains(r#"clr="%{$clr%}" rst="%{"$'\e[39m'"%}""#));
        assert!(z.contains("[[ -o promptbang ]] && sym='!!'"));
        assert!(z.contains("__aws_session_now=${EPOCHSECONDS:-$(date +%s)}"));
    }

    #[test]
    fn fish_init_wraps_the_prompt_and_restores_the_status_last() {
        let f = fish_init();
        assert!(f.contains("functions -c fish_prompt __aws_session_user_prompt"));
        let prompt = at(&f, "function fish_prompt\n");
        let body = &f[prompt..];
        // The status is restored right before the user's prompt, after every
        // command of ours (a `functions -q` in between would reset it to 0).
        let restore = at(body, "__aws_session_restore_status $s\n");
        let user = at(body, "        __aws_session_user_prompt\n");
        assert!(at(body, "functions -q __aws_session_user_prompt") < restore);
        assert!(restore < user);
        assert!(f.contains("refresh --format fish $argv"));
        assert!(f.contains(&format!("- {REFRESH_MARGIN_SECS}")));
    }

    #[test]
    fn rc_text_holds_no_secret_names() {
        for text in [bash_rc(), zsh_env(), zsh_rc(), fish_init()] {
            for name in [
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_SESSION_PARENT_SECRET",
            ] {
                assert!(!text.contains(name), "{name}");
            }
        }
    }
}
