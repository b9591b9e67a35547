#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# hello.cgi - CGI script run by fcgiwrap in the mod_fcgi_pm test suite.
# PID is the script's shell, PPID the fcgiwrap process that ran it.
# "sleep=MS" (whole seconds and milliseconds) sleeps before answering.
ms=$(printf '%s\n' "$QUERY_STRING" | tr '&' '\n' | sed -n 's/^sleep=\([0-9][0-9]*\)$/\1/p' | head -n 1)
if [ -n "$ms" ] && [ "$ms" -gt 0 ]; then
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
fi
printf 'Content-Type: text/plain\r\n\r\n'
printf 'APP=fcgiwrap\nPID=%s\nPPID=%s\nQUERY_STRING=%s\nSCRIPT_FILENAME=%s\n' "$$" "$PPID" "$QUERY_STRING" "$SCRIPT_FILENAME"
