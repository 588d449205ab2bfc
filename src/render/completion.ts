/**
 * The shell completion scripts `kernelfile completion SHELL` prints. Each asks
 * `kernelfile __complete` (src/cli/complete.ts) for the candidates on every Tab, and completes
 * files and directories itself when told to (the directive on the first line of the answer).
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const BASH = `# kernelfile completion for bash (kernelfile completion bash).
# Load it now: source <(kernelfile completion bash)
# Or for every shell: kernelfile completion bash > ~/.local/share/bash-completion/completions/kernelfile
_kernelfile() {
  local -a lines
  mapfile -t lines < <(command kernelfile __complete bash "\${COMP_LINE:0:COMP_POINT}" 2>/dev/null)
  COMPREPLY=()
  ((\${#lines[@]} >= 3)) || return 0
  local directive=\${lines[0]} value=\${lines[2]} ext
  COMPREPLY=("\${lines[@]:3}")
  local -a exts
  read -r -a exts <<<"\${directive#files}"
  local IFS=$'\\n'
  case $directive in
  files*)
    compopt -o filenames 2>/dev/null
    if ((\${#exts[@]})); then
      COMPREPLY+=($(compgen -d -- "$value"))
      for ext in "\${exts[@]}"; do COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$value")); done
    else
      COMPREPLY+=($(compgen -f -- "$value"))
    fi
    ;;
  dirs)
    compopt -o filenames 2>/dev/null
    COMPREPLY+=($(compgen -d -- "$value"))
    ;;
  esac
  return 0
}
complete -F _kernelfile kernelfile
`;

const ZSH = `#compdef kernelfile
# kernelfile completion for zsh (kernelfile completion zsh).
# Load it now: source <(kernelfile completion zsh)
# Or for every shell: kernelfile completion zsh > "\${fpath[1]}/_kernelfile" (a directory in $fpath)
_kernelfile() {
  local -a lines candidates exts
  local directive prefix
  # The last line, "-", keeps the empty lines before it (a command substitution drops trailing ones).
  lines=("\${(@f)$(command kernelfile __complete zsh "\${(@Q)words[1,CURRENT-1]}" "\${(Q)PREFIX}" 2>/dev/null; print -r -- -)}")
  lines=("\${(@)lines[1,-2]}")
  (( \${#lines} >= 3 )) || return 1
  directive=\${lines[1]}
  prefix=\${lines[2]}
  candidates=("\${(@)lines[4,-1]}")
  case $directive in
  files*)
    exts=(\${=directive#files})
    compset -P "\${(b)prefix}"
    if (( \${#exts} )); then _files -g "*.(\${(j:|:)exts})"; else _files; fi
    ;;
  dirs)
    compset -P "\${(b)prefix}"
    _files -/
    ;;
  *)
    (( \${#candidates} )) && compadd -- "\${candidates[@]}"
    ;;
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _kernelfile "$@"
else
  compdef _kernelfile kernelfile
fi
`;

const FISH = `# kernelfile completion for fish (kernelfile completion fish).
# Load it now: kernelfile completion fish | source
# Or for every shell: kernelfile completion fish > ~/.config/fish/completions/kernelfile.fish
function __kernelfile_complete
    set -l lines (command kernelfile __complete fish (commandline -opc) (commandline -ct) 2>/dev/null)
    test (count $lines) -ge 3; or return
    set -l directive (string split ' ' -- $lines[1])
    set -l prefix $lines[2]
    set -l value $lines[3]
    switch $directive[1]
        case files
            set -l exts $directive[2..-1]
            for f in (complete -C"__kernelfile_no_such_command $value")
                set -l path (string split -m1 \\t -- $f)[1]
                if test (count $exts) -eq 0; or string match -q -- '*/' $path; or string match -q -r -- '\\.('(string join '|' -- $exts)')$' $path
                    printf '%s\\n' $prefix$path
                end
            end
        case dirs
            for f in (__fish_complete_directories $value)
                printf '%s\\n' $prefix(string split -m1 \\t -- $f)[1]
            end
        case '*'
            set -q lines[4]; and printf '%s\\n' $lines[4..-1]
    end
end
complete -c kernelfile -f -a '(__kernelfile_complete)'
`;

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}
