#!/usr/bin/env python3
"""Lint the test scripts for `check` calls that test less than they say.

`check "name" cmd args...` (tests/lib/tap.sh) runs ONE simple command.  Bash
binds `&&`, `||` and `|` outside the call, so in

    check "x" A && B      only A is checked; B runs after "ok" was printed
    check "x" cmd | grep  check's own output goes into grep: no line at all

This reads each shell file given (default: tests/**/*.sh and scripts/*.sh),
finds every simple command whose command word is `check`, and fails on one
that
  - is followed by `&&`, `||`, `|` or `|&`,
  - has no command to run (`check "name"` alone passes always),
  - runs `!`, `[[`, `((` or `{` (not commands "$@" can run: always "not ok").
Quotes, $(...), ${...}, backquotes, comments, here-documents and line
continuations are followed, so operators inside them do not count.

Prints FILE:LINE: message for each, and exits 1 if there was any.
"""
import glob
import os
import sys

OPERATORS = ("&&", "||", "|&", ";;", "&", "|", ";", "(", ")", "\n")
BAD_FOLLOW = {"&&", "||", "|", "|&"}
BAD_FIRST = {"!", "[[", "((", "{"}
# words after which a new command starts
RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until",
            "!", "{", "}", "time"}


class Lexer:
    """Splits bash text into words and control operators, with line numbers."""

    def __init__(self, text):
        self.s = text
        self.i = 0
        self.line = 1
        self.heredocs = []      # (delimiter, strip_tabs) pending at newline

    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def advance(self, n=1):
        for _ in range(n):
            if self.i < len(self.s):
                if self.s[self.i] == "\n":
                    self.line += 1
                self.i += 1

    def skip_single(self):          # at the opening '
        self.advance()
        while self.i < len(self.s) and self.peek() != "'":
            self.advance()
        self.advance()

    def skip_double(self):          # at the opening "
        self.advance()
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\":
                self.advance(2)
            elif c == '"':
                self.advance()
                return
            elif c == "$":
                self.skip_dollar()
            elif c == "`":
                self.skip_backquote()
            else:
                self.advance()

    def skip_backquote(self):
        self.advance()
        while self.i < len(self.s) and self.peek() != "`":
            if self.peek() == "\\":
                self.advance()
            self.advance()
        self.advance()

    def skip_dollar(self):          # at $
        nxt = self.peek(1)
        if nxt == "(":
            self.advance(2)
            self.skip_nested(")")
        elif nxt == "{":
            self.advance(2)
            self.skip_nested("}")
        elif nxt == "'":           # $'...' with backslash escapes
            self.advance(2)
            while self.i < len(self.s) and self.peek() != "'":
                if self.peek() == "\\":
                    self.advance()
                self.advance()
            self.advance()
        else:
            self.advance()

    def skip_quoted(self, single=True):
        """At a quote (' only if SINGLE), a backquote or a $: skip all of it."""
        c = self.peek()
        if c == "'" and single:
            self.skip_single()
        elif c == '"':
            self.skip_double()
        elif c == "`":
            self.skip_backquote()
        elif c == "$":
            self.skip_dollar()
        else:
            return False
        return True

    def skip_nested(self, close):
        """Skip to the matching close (after an opening already consumed)."""
        opener = "(" if close == ")" else "{"
        depth = 1
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\":
                self.advance(2)
            elif self.skip_quoted(single=close == ")"):
                pass
            elif c == "#" and close == ")" and self.s[self.i - 1] in " \t\n(":
                while self.i < len(self.s) and self.peek() != "\n":
                    self.advance()
            elif c == opener:
                depth += 1
                self.advance()
            elif c == close:
                depth -= 1
                self.advance()
                if depth == 0:
                    return
            else:
                self.advance()

    def read_heredocs(self):
        """At the start of a line after a command with here-documents."""
        for delim, strip in self.heredocs:
            while self.i < len(self.s):
                end = self.s.find("\n", self.i)
                if end < 0:
                    end = len(self.s)
                body = self.s[self.i:end]
                if strip:
                    body = body.lstrip("\t")
                self.advance(end - self.i + 1)
                if body == delim:
                    break
        self.heredocs = []

    def heredoc_word(self):
        """After << or <<-: read the delimiter word (quotes removed)."""
        while self.peek() in (" ", "\t"):
            self.advance()
        out = []
        while self.i < len(self.s) and self.peek() not in " \t\n;&|<>()":
            c = self.peek()
            if c in "'\"":
                self.advance()
                while self.i < len(self.s) and self.peek() != c:
                    out.append(self.peek())
                    self.advance()
                self.advance()
            elif c == "\\":
                self.advance()
                out.append(self.peek())
                self.advance()
            else:
                out.append(c)
                self.advance()
        return "".join(out)

    def tokens(self):
        """Yield (kind, text, line): kind is 'word' or 'op'."""
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\" and self.peek(1) == "\n":     # line continuation
                self.advance(2)
            elif c in " \t":
                self.advance()
            elif c == "#":
                while self.i < len(self.s) and self.peek() != "\n":
                    self.advance()
            elif c == "\n":
                line = self.line
                self.advance()
                if self.heredocs:
                    self.read_heredocs()
                yield ("op", "\n", line)
            elif c == "<" and self.s.startswith("<<", self.i) \
                    and not self.s.startswith("<<<", self.i):
                strip = self.s.startswith("<<-", self.i)
                self.advance(3 if strip else 2)
                self.heredocs.append((self.heredoc_word(), strip))
            elif c in "<>":
                while self.peek() in "<>&":        # redirection: part of the command
                    self.advance()
            else:
                op = next((o for o in OPERATORS if self.s.startswith(o, self.i)), None)
                if op:
                    line = self.line
                    self.advance(len(op))
                    yield ("op", op, line)
                else:
                    line = self.line
                    yield ("word", self.read_word(), line)

    def read_word(self):
        start = self.i
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\":
                if self.peek(1) == "\n":
                    break
                self.advance(2)
            elif self.skip_quoted():
                pass
            elif c in " \t\n;&|<>()":
                if c == "(" and self.i > start and self.s[self.i - 1] in "@?*+!":
                    self.advance()           # extglob @(...) etc.
                    self.skip_nested(")")
                    continue
                break
            else:
                self.advance()
        return self.s[start:self.i]


def lint_text(text, path):
    problems = []
    at_start = True
    in_check = None         # (line, words) of the check call being read
    for kind, tok, line in Lexer(text).tokens():
        if in_check is not None:
            if kind == "word":
                in_check[1].append(tok)
                continue
            cline, words = in_check
            in_check = None
            if tok == "(" and not words:
                continue                      # check() { ...: the definition
            if tok in BAD_FOLLOW:
                where = "" if line == cline else f" (line {line})"
                problems.append(f"{path}:{cline}: check followed by '{tok}'{where}: bash runs"
                                " what follows outside check (use a function or sh -c '...')")
            elif len(words) < 2:
                problems.append(f"{path}:{cline}: check with no command to run")
            elif words[1] in BAD_FIRST:
                problems.append(f"{path}:{cline}: check runs '{words[1]}', which is not "
                                "a command (use a function or sh -c '...')")
        if kind == "op":
            at_start = True
            continue
        if at_start:
            if tok == "check":
                in_check = (line, [])
                at_start = False
            elif tok in RESERVED or ("=" in tok and tok.split("=")[0].isidentifier()):
                pass                          # still at command position
            else:
                at_start = False
    if in_check is not None and len(in_check[1]) < 2:
        problems.append(f"{path}:{in_check[0]}: check with no command to run")
    return problems


# The lint's own test: every line marked "#!bad" (or after one marked
# "#!bad-next") must be reported, no other.
SAMPLE = r"""
check "a" [ -n "$Y" ] && [ "$Y" != "$X" ]       #!bad
check "b" cmd | grep -q x                        #!bad
check "c" cmd || true                            #!bad
#!bad-next
check "d" \
	[ "$x" = 1 ] &&
	[ "$y" = 2 ]
if true; then check "e" foo |& cat; fi           #!bad
X=1 check "f" a && b                             #!bad
check "g"                                        #!bad
check "h" ! grep -q x f                          #!bad
check "i" [[ -n $x ]]                            #!bad
	#!bad-next
	check "j" cmd && \
		other
check "k" sh -c 'a && b | c'
check "l" [ "$(a && b | c)" = "x && y" ]
check "m" grep -q "a|b" <<<"$(x || y)"
check "n" [ "${v:-a&&b}" = `echo "||"` ]         # && in a comment
check "o" cmp a b; other && more
ok && check "p" cmd
cat <<EOF
check "q" inside a here-document && x
EOF
cat <<-'END'
	check "r" here too | grep
	END
echo check "s" && y
check() { echo; }
[[ $a == +(x|y) ]] && check "t" true
case $x in check) a ;; esac
check "u" f "$(printf ')' "(")" "&&" $((1 + (2)))
f() {
	#!bad-next
	check "v" g \
		arg && h
}
check "w" grep -c x <<<"a && b"
while check "x" f; do :; done
"""


def self_test():
    """The lint must find exactly the marked lines of SAMPLE."""
    lines = SAMPLE.split("\n")
    want = {n for n, text in enumerate(lines, 1) if "#!bad" in text and "#!bad-next" not in text}
    want |= {n + 1 for n, text in enumerate(lines, 1) if "#!bad-next" in text}
    got = {int(p.split(":")[1]) for p in lint_text(SAMPLE, "sample")}
    if want != got:
        print(f"lint self-test failed: missed lines {sorted(want - got)},"
              f" wrongly reported lines {sorted(got - want)}")
        return False
    return True


def main(argv):
    if not self_test():
        return 1
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    files = argv[1:] or sorted(
        os.path.relpath(p, root) for p in
        glob.glob(os.path.join(root, "tests", "**", "*.sh"), recursive=True)
        + glob.glob(os.path.join(root, "scripts", "*.sh")))
    problems = []
    for path in files:
        full = path if argv[1:] else os.path.join(root, path)
        with open(full, encoding="utf-8", errors="replace") as f:
            problems += lint_text(f.read(), path)
    for p in problems:
        print(p)
    print(f"# {len(files)} files, {len(problems)} bad check calls")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
