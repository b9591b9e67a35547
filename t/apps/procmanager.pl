#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# procmanager.pl - classic FCGI::ProcManager deployment for the mod_fcgi_pm
# test suite: the process the manager starts forks n_processes (2) children
# that accept on the inherited fd 0; it only supervises them.
#
# FCGI::ProcManager's signals: SIGTERM to the parent sends SIGTERM to every
# child, waits for them (die_timeout) and exits; a child that gets SIGTERM in
# accept() leaves at once (FAIL_ACCEPT_ON_INTR), one that gets it during a
# request finishes it and then exits (pm_post_dispatch).  SIGHUP: the parent
# replaces its children.  SIGUSR1 is not handled (default: the parent dies,
# its children stay).
#
# Answer (text/plain): APP=procmanager PID=<child> PPID=<parent> REQS=...
# "sleep=MS" sleeps before answering.
use strict;
use warnings;
use FCGI;
use FCGI::ProcManager;
use Time::HiRes ();

my $n = $ENV{PM_PROCESSES} || 2;
my $pm = FCGI::ProcManager->new({ n_processes => $n, die_timeout => 30 });
my %env;
my $req = FCGI::Request(\*STDIN, \*STDOUT, \*STDERR, \%env, 0,
                        FCGI::FAIL_ACCEPT_ON_INTR());
$SIG{PIPE} = 'IGNORE';
$pm->pm_manage();

my $count = 0;
while ($req->Accept() >= 0) {
    $pm->pm_pre_dispatch();
    $count++;
    my $qs = $env{QUERY_STRING} // '';
    if ($qs =~ /(?:^|&)sleep=(\d+)/) {
        my $until = Time::HiRes::time() + $1 / 1000;
        while ((my $left = $until - Time::HiRes::time()) > 0) {
            Time::HiRes::sleep($left);
        }
    }
    print "Content-Type: text/plain\r\n\r\n";
    print "APP=procmanager\nPID=$$\nPPID=", getppid(), "\nREQS=$count\nQUERY_STRING=$qs\n";
    $req->Finish();
    $pm->pm_post_dispatch();
}
exit 0;
