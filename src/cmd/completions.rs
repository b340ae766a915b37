//! `completions bash|zsh|fish`: a completion script made from the tables of commands
//! and options, so that it names every command and option there is.

use super::args::{CmdArgs, Options, Run, Spec};
use super::{Opt, COMMANDS, GLOBAL_OPTIONS};
use crate::env::Env;
use crate::error::{Error, Result};

pub const SPEC: Spec = Spec {
    name: "completions",
    about: "print a completion script",
    help: concat!(
        "Usage: aws-session completions bash|zsh|fish\n",
        "\n",
        "Prints a completion script, e.g. aws-session completions bash > /etc/bash_completion.d/aws-session\n",
    ),
    options: &[],
    operands: "bash|zsh|fish",
    makes_session: false,
    reads_switches: false,
    parse: |a| Ok(Box::new(Args { shell: parse(a)? })),
};

/// The shell of `completions` (empty with `--help`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub shell: String,
}

impl Run for Args {
    fn run(&self, _: &Options, _: &Env) -> Result<()> {
        run(&self.shell)
    }
}

/// The shell (bash, zsh or fish); with `--help` none is needed.
pub fn parse(args: &mut CmdArgs) -> Result<String> {
    let mut shell = None;
    while let Some(arg) = args.next_arg()? {
        match arg {
            super::args::Arg::Value(v) if shell.is_none() => {
                let name = v.to_string_lossy().into_owned();
                if !["bash", "zsh", "fish"].contains(&name.as_str()) {
                    return Err(Error::Usage(format!(
                        "completions for \"{name}\" are not available: use bash, zsh or fish"
                    )));
                }
                shell = Some(name);
            }
            other => return Err(args.unexpected(other)),
        }
    }
    match shell {
        Some(s) => Ok(s),
        None if args.help => Ok(String::new()),
        None => Err(Error::Usage(
            "completions needs a shell: aws-session completions bash|zsh|fish".into(),
        )),
    }
}

/// The commands `completions` offers, with their description, and `help`.
fn commands() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = COMMANDS.iter().map(|c| (c.name, c.about)).collect();
    v.push(("help", "show help for a command"));
    v
}

/// Every option: the global ones, then each command's (once).
fn options() -> Vec<Opt> {
    let mut v: Vec<Opt> = GLOBAL_OPTIONS.iter().map(|g| g.opt).collect();
    for o in COMMANDS.iter().flat_map(|c| c.options) {
        if !v.iter().any(|x| x.long == o.long) {
            v.push(*o);
        }
    }
    v
}

/// `text` for the inside of a zsh single-quoted string (`'` becomes `'\''`).
fn zsh_quoted(text: &str) -> String {
    text.replace('\'', "'\\''")
}

/// `text` for the inside of a fish single-quoted string (`\` and `'` escaped).
fn fish_quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The values of `--format`.
pub const FORMATS: &str = "env fish json credential-process";

/// `completions bash|zsh|fish`.
pub fn run(shell: &str) -> Result<()> {
    crate::out::print(&completion_script(shell)?)
}

/// A shell's completion script for aws-session: commands, options, `--format` values,
/// profile names (from the AWS files), and the command after `exec`.
///
/// ```
/// let bash = aws_session::cmd::completions::completion_script("bash").unwrap();
/// assert!(bash.contains("complete -F _aws_session aws-session"));
/// assert!(aws_session::cmd::completions::completion_script("tcsh").is_err());
/// ```
pub fn completion_script(shell: &str) -> Result<String> {
    let command_list = commands();
    let option_list = options();
    let commands: Vec<&str> = command_list.iter().map(|(c, _)| *c).collect();
    let mut long_opts: Vec<String> = Vec::new();
    for Opt { short, long, .. } in &option_list {
        if let Some(s) = short {
            long_opts.push(format!("-{s}"));
        }
        long_opts.push(format!("--{long}"));
    }
    match shell {
        "bash" => Ok(BASH
            .replace("@COMMANDS@", &commands.join(" "))
            .replace("@OPTIONS@", &long_opts.join(" "))
            .replace("@FORMATS@", FORMATS)),
        "zsh" => {
            let cmds: Vec<String> = command_list
                .iter()
                .map(|(c, d)| format!("    '{c}:{}'", zsh_quoted(d)))
                .collect();
            let opts: Vec<String> = option_list
                .iter()
                .map(
                    |Opt {
                         short,
                         long,
                         value,
                         about,
                     }| {
                        let desc = zsh_quoted(&about.replace('[', "\\[").replace(']', "\\]"));
                        let arg = match (*long, *value) {
                            ("profile", _) => ":profile:_aws_session_profiles".to_string(),
                            ("format", _) => format!(":format:({FORMATS})"),
                            (_, true) => format!(":{long}:"),
                            (_, false) => String::new(),
                        };
                        let exclusive = if matches!(*long, "help" | "version") {
                            "(- *)".to_string()
                        } else {
                            match short {
                                Some(s) => format!("(-{s} --{long})"),
                                None => String::new(),
                            }
                        };
                        match short {
                            Some(s) => format!("    '{exclusive}'{{-{s},--{long}}}'[{desc}]{arg}'"),
                            None => format!("    '{exclusive}--{long}[{desc}]{arg}'"),
                        }
                    },
                )
                .collect();
            Ok(ZSH
                .replace("@COMMANDS@", &cmds.join("\n"))
                .replace("@OPTIONS@", &opts.join(" \\\n")))
        }
        "fish" => {
            let mut out = String::from(FISH_HEAD);
            let list = commands.join(" ");
            for (c, d) in &command_list {
                out.push_str(&format!(
                    "complete -c aws-session -n 'not __fish_seen_subcommand_from {list}' -a {c} -d '{}'\n",
                    fish_quoted(d)
                ));
            }
            for Opt {
                short,
                long,
                value,
                about: desc,
            } in &option_list
            {
                let mut line = String::from("complete -c aws-session");
                if let Some(s) = short {
                    line.push_str(&format!(" -s {s}"));
                }
                line.push_str(&format!(" -l {long}"));
                if *value {
                    line.push_str(" -x");
                }
                match *long {
                    "profile" => line.push_str(" -a '(__aws_session_profiles)'"),
                    "format" => line.push_str(&format!(" -a '{FORMATS}'")),
                    _ => {}
                }
                line.push_str(&format!(
                    " -n 'not __fish_seen_subcommand_from exec' -d '{}'\n",
                    fish_quoted(desc)
                ));
                out.push_str(&line);
            }
            let topics: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
            out.push_str(&FISH_TAIL.replace("@HELP_TOPICS@", &topics.join(" ")));
            Ok(out)
        }
        other => Err(Error::Usage(format!(
            "completions for \"{other}\" are not available: use bash, zsh or fish"
        ))),
    }
}

const BASH: &str = r#"# bash completion for aws-session
# Install: aws-session completions bash > ~/.local/share/bash-completion/completions/aws-session
# or add to ~/.bashrc: eval "$(aws-session completions bash)"

_aws_session_profiles() {
    local f
    for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
        [ -r "$f" ] || continue
        sed -n -e 's/^[[:space:]]*\[profile[[:space:]][[:space:]]*\([^]]*\)\].*/\1/p' \
               -e 's/^[[:space:]]*\[\([^] ]*\)\].*/\1/p' "$f"
    done | sed -e 's/[[:space:]]*$//' | sort -u
}

# The profile names that start with $cur, each quoted for the command line, put in
# COMPREPLY one per line of _aws_session_profiles: never split into words, never
# expanded or evaluated (a name may hold $(...), backticks or ;).
_aws_session_profile_reply() {
    local name quoted
    while IFS= read -r name; do
        [[ -n "$name" && "$name" == "$cur"* ]] || continue
        printf -v quoted '%q' "$name"
        COMPREPLY+=("$quoted")
    done < <(_aws_session_profiles)
}

_aws_session() {
    local cur prev i
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -p|--profile|-c|--code|-d|--session-duration|--format) ((i++)) ;;
            exec)
                if declare -F _command_offset >/dev/null; then
                    _command_offset $((i + 1))
                elif ((COMP_CWORD == i + 1)); then
                    COMPREPLY=($(compgen -c -- "$cur"))
                else
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                return 0
                ;;
            completions)
                COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
                return 0
                ;;
        esac
    done
    case "$prev" in
        -p|--profile)
            _aws_session_profile_reply
            return 0
            ;;
        --format)
            COMPREPLY=($(compgen -W "@FORMATS@" -- "$cur"))
            return 0
            ;;
        -c|--code|-d|--session-duration)
            return 0
            ;;
        help)
            COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
            return 0
            ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "@OPTIONS@" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
    fi
    return 0
}

complete -F _aws_session aws-session
"#;

const ZSH: &str = r#"#compdef aws-session
# zsh completion for aws-session
# Install: aws-session completions zsh > "${fpath[1]}/_aws-session"
# or add to ~/.zshrc (after compinit): eval "$(aws-session completions zsh)"

_aws_session_profiles() {
    local -a profiles
    local f
    for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
        [[ -r $f ]] || continue
        profiles+=(${(f)"$(sed -n -e 's/^[[:space:]]*\[profile[[:space:]][[:space:]]*\([^]]*\)\].*/\1/p' \
                                  -e 's/^[[:space:]]*\[\([^] ]*\)\].*/\1/p' "$f")"})
    done
    _describe -t profiles 'AWS profile' profiles
}

_aws-session() {
    local -a commands
    commands=(
@COMMANDS@
    )
    local curcontext="$curcontext" state line
    _arguments -C \
@OPTIONS@ \
        '1: :->command' \
        '*:: :->args' && return 0
    case $state in
        command)
            _describe -t commands 'aws-session command' commands
            ;;
        args)
            case $words[1] in
                exec)
                    shift words
                    (( CURRENT-- ))
                    _normal
                    ;;
                completions)
                    _values 'shell' bash zsh fish
                    ;;
                help)
                    _describe -t commands 'aws-session command' commands
                    ;;
            esac
            ;;
    esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _aws-session "$@"
else
    compdef _aws-session aws-session
fi
"#;

const FISH_HEAD: &str = r#"# fish completion for aws-session
# Install: aws-session completions fish > ~/.config/fish/completions/aws-session.fish

function __aws_session_profiles
    set -l config ~/.aws/config
    set -q AWS_CONFIG_FILE; and set config $AWS_CONFIG_FILE
    set -l credentials ~/.aws/credentials
    set -q AWS_SHARED_CREDENTIALS_FILE; and set credentials $AWS_SHARED_CREDENTIALS_FILE
    for f in $config $credentials
        test -r $f; or continue
        string match -r -g '^\s*\[(?:profile\s+)?([^\]]*[^\]\s])\s*\]' < $f
    end | string match -v -r '^(sso-session|services)(\s|$)' | sort -u
end

complete -c aws-session -f
"#;

const FISH_TAIL: &str = r#"complete -c aws-session -n '__fish_seen_subcommand_from completions' -x -a 'bash zsh fish'
complete -c aws-session -n '__fish_seen_subcommand_from help' -x -a '@HELP_TOPICS@'
complete -c aws-session -n '__fish_seen_subcommand_from exec' -x -a '(__fish_complete_subcommand --fcs-skip=2)'
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fish_offers_every_command_after_help() {
        let fish = completion_script("fish").unwrap();
        let line = fish
            .lines()
            .find(|l| l.contains("__fish_seen_subcommand_from help"))
            .unwrap();
        for c in COMMANDS {
            assert!(
                line.split(['\'', ' ']).any(|w| w == c.name),
                "{} in {line}",
                c.name
            );
        }
    }

    #[test]
    fn descriptions_are_quoted_for_each_shell() {
        assert_eq!(zsh_quoted("the profile's keys"), "the profile'\\''s keys");
        assert_eq!(
            fish_quoted("the profile's \\ keys"),
            "the profile\\'s \\\\ keys"
        );
        // Every description with a quote reaches the scripts escaped.
        let fish = completion_script("fish").unwrap();
        let zsh = completion_script("zsh").unwrap();
        for (_, about) in commands() {
            if about.contains('\'') {
                assert!(fish.contains(&fish_quoted(about)), "{about}");
                assert!(zsh.contains(&zsh_quoted(about)), "{about}");
            }
        }
    }

    #[test]
    fn scripts_name_every_command_and_option() {
        for shell in ["bash", "zsh", "fish"] {
            let s = completion_script(shell).unwrap();
            for placeholder in ["@COMMANDS@", "@OPTIONS@", "@FORMATS@"] {
                assert!(!s.contains(placeholder), "{shell}: {placeholder}");
            }
            for (c, _) in commands() {
                assert!(s.contains(c), "{shell}: {c}");
            }
            for Opt { long, .. } in options() {
                assert!(s.contains(long), "{shell}: {long}");
            }
        }
    }
}
