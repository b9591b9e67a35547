#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# hello.pl - Perl FCGI worker for the mod_fcgi_pm test suite.
#
# Accepts on fd 0 (the listen socket handed over by the process manager).
# Answers every request with text/plain lines:
#   APP=hello-pl
#   PID=<pid>
#   UID=<uid>
#   SCRIPT_NAME=..., PATH_INFO=..., QUERY_STRING=...
# "?sleep=MS" sleeps before answering.
# SIGUSR1 (the FastCGI graceful signal): finish the current request, then
# exit 0.
use strict;
use warnings;
use FCGI;
use Time::HiRes ();

my %env;
my $exit_requested = 0;
my $req = FCGI::Request(\*STDIN, \*STDOUT, \*STDERR, \%env, 0,
                        FCGI::FAIL_ACCEPT_ON_INTR());

$SIG{USR1} = sub { $exit_requested = 1; $req->LastCall(); };
$SIG{PIPE} = 'IGNORE';

my $count = 0;
while (!$exit_requested) {
    my $rc = $req->Accept();
    if ($rc < 0) {
        # Interrupted by some other signal: try again; anything else
        # (SIGUSR1 included) ends.
        next if $!{EINTR} && !$exit_requested;
        last;
    }
    # A request Accept() returned is answered, even when SIGUSR1 came in
    # meanwhile: the loop condition ends the worker after it.
    $count++;
    my $qs = $env{QUERY_STRING} // '';
    if ($qs =~ /(?:^|&)sleep=(\d+)/) {
        # Sleep the full time even if a signal (SIGUSR1) interrupts it.
        my $until = Time::HiRes::time() + $1 / 1000;
        while ((my $left = $until - Time::HiRes::time()) > 0) {
            Time::HiRes::sleep($left);
        }
    }
    print "Content-Type: text/plain\r\n\r\n";
    print "APP=hello-pl\n";
    print "PID=$$\n";
    print "UID=$<\n";
    print "REQS=$count\n";
    for my $k (qw(SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD)) {
        print "$k=", ($env{$k} // ''), "\n";
    }
    $req->Finish();
}
exit 0;
