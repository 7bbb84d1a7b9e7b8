#!/bin/sh
# commit-msg hook served by lockgate: gives every new commit a Change-Id footer,
# by which the review server recognises a commit as a new patch set of an
# existing change after `git commit --amend` or a rebase.
#
# Install it into a clone:
#   curl -o .git/hooks/commit-msg <server url>/tools/hooks/commit-msg
#   chmod +x .git/hooks/commit-msg
#
# git config settings it reads:
#   gerrit.createChangeId  "false" turns it off; "always" also tags fixup!,
#                          squash! and amend! commits, which it skips otherwise
#   gerrit.reviewUrl       when set, writes "Link: <url>/id/I..." instead of
#                          "Change-Id: I...", which the server accepts as well
#
# The Change-Id is "I" and the SHA-1 (as `git hash-object` computes it) of the
# committer's identity with the current time, the sha of HEAD and the message:
# unique per commit, stable once written, since an existing footer is kept.
set -eu

msg=$1
empty_tree=4b825dc642cb6eb9a060e54bf8d69288fbee4904

mode=$(git config --get gerrit.createChangeId || :)
case $(printf '%s' "$mode" | tr '[:upper:]' '[:lower:]') in
false | no | off | 0) exit 0 ;;
esac

if [ "$mode" != always ]; then
	case $(sed -n 1p "$msg") in
	'fixup! '* | 'squash! '* | 'amend! '*) exit 0 ;;
	esac
fi

review_url=$(git config --get gerrit.reviewUrl || :)

# A footer that is already there stays: the commit keeps its change.
footers=$(git interpret-trailers --parse <"$msg")
if printf '%s\n' "$footers" | grep -qi '^Change-Id:'; then
	exit 0
fi
if [ -n "$review_url" ] && printf '%s\n' "$footers" | grep -qi '^Link:.*/id/I[0-9a-f]\{40\}$'; then
	exit 0
fi

# The message as git will record it: without the diff below the scissors line
# of `git commit -v` and without comment lines.
text=$(sed '/^# -* >8 -*$/,$d' "$msg" | git stripspace --strip-comments)
if [ -z "$text" ]; then
	echo "Aborting commit due to empty commit message." >&2
	exit 1
fi

head=$(git rev-parse --verify --quiet HEAD || echo "$empty_tree")
who=$(git var GIT_COMMITTER_IDENT)
hash=$(printf '%s\n%s\n%s\n' "$who" "$head" "$text" | git hash-object --stdin)

if [ -n "$review_url" ]; then
	footer="Link: ${review_url%/}/id/I$hash"
else
	footer="Change-Id: I$hash"
fi

git -c trailer.ifexists=add -c trailer.where=end interpret-trailers --in-place \
	--trailer "$footer" "$msg"

# By convention the Change-Id comes before the Signed-off-by lines of its
# footer block: move the new line up to the first of them, if there is one.
if printf '%s\n' "$footers" | grep -q '^Signed-off-by:'; then
	awk -v footer="$footer" '
		{ line[NR] = $0 }
		$0 == footer { at = NR }
		END {
			target = 0
			if (at) {
				start = at
				while (start > 1 && line[start - 1] !~ /^[ \t]*$/) start--
				for (i = start; i < at; i++)
					if (line[i] ~ /^Signed-off-by:/) { target = i; break }
			}
			for (i = 1; i <= NR; i++) {
				if (target && i == at) continue
				if (i == target) print footer
				print line[i]
			}
		}' "$msg" >"$msg.change-id"
	mv "$msg.change-id" "$msg"
fi
