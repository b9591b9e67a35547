#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 32-cap.t - the server-wide cap FcgiPmMaxProcesses (issue 9).
#
# FcgiPmMaxProcesses 4; apps a and b (Processes 1, MaxProcesses 4) and c
# (Processes 0, on demand), all the libfcgi test app:
#  1. a and b under saturating load (6 clients of 400 ms each): together
#     they never run more than 4 workers, and they share fairly (2 each);
#     no request fails.
#  2. b's load stops, a's goes on: a takes the room b leaves?  No: b keeps
#     its floor; a grows into what is free (3).  Then a request for c,
#     cold, at the cap: an idle worker of a is given back, c starts and
#     answers 200; the log says who gave to whom.
#  3. configtest refuses FcgiPmMaxProcesses below the sum of Processes,
#     naming file and line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for app_conf);

sub count_workers {
    my ($t, $name) = @_;
    return scalar $t->workers(match => qr/--app=$name\b/);
}

sub slow_load {
    my ($t, $app, $clients) = @_;
    return $t->slow_hello_load("/$app", $clients, 400);
}

my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
$t->write_conf(join('', "FcgiPmMaxProcesses 4\n",
    app_conf('a', "$hello --app=a", 'Processes 1', 'MaxProcesses 4', 'IdleTimeout 300', 'ShutdownTimeout 10'),
    app_conf('b', "$hello --app=b", 'Processes 1', 'MaxProcesses 4', 'IdleTimeout 300', 'ShutdownTimeout 10'),
    app_conf('c', "$hello --app=c", 'Processes 0', 'IdleTimeout 300', 'ShutdownTimeout 10')));
ok($t->start, 'httpd started');
ok($t->wait_ok("/$_/x", 20), "app $_ answers") for qw(a b);

subtest 'two apps under load share the cap fairly' => sub {
    my $mark = $t->log_mark;
    my $la = slow_load($t, 'a', 6);
    my $lb = slow_load($t, 'b', 6);
    ok(wait_for(sub { count_workers($t, 'a') + count_workers($t, 'b') == 4 }, 20),
       'together they reach the cap (4)');
    my ($most, $end) = (0, time + 4);
    my %seen;
    while (time < $end) {
        my ($na, $nb) = (count_workers($t, 'a'), count_workers($t, 'b'));
        $most = $na + $nb if $na + $nb > $most;
        $seen{"$na+$nb"}++;
        sleep 0.1;
    }
    note('a+b seen: ' . join(', ', map { "$_ x$seen{$_}" } sort keys %seen));
    is($most, 4, 'never more than FcgiPmMaxProcesses (4) workers together');
    is(count_workers($t, 'a') . '+' . count_workers($t, 'b'), '2+2', 'each app has 2: a fair share');
    like($t->log_since($mark), qr/FcgiPmMaxProcesses 4 reached: app [ab] waits for a worker/,
         'reaching the cap is logged');

    my $sb = $t->load_finish($lb);
    ok(wait_for(sub { count_workers($t, 'a') == 3 }, 20), 'with b quiet, a grows into the room b left (3)')
        or diag('a: ' . count_workers($t, 'a') . ', b: ' . count_workers($t, 'b'));
    my $sa = $t->load_finish($la);
    note('a: ' . FcgiPmTest::load_summary_text($sa));
    note('b: ' . FcgiPmTest::load_summary_text($sb));
    is($sa->{failed} + $sa->{non2xx} + $sb->{failed} + $sb->{non2xx}, 0, 'no request failed');
};

subtest 'a cold on-demand app at the cap gets an idle worker given back' => sub {
    is(count_workers($t, 'c'), 0, 'c runs no worker');
    my $total = count_workers($t, 'a') + count_workers($t, 'b');
    is($total, 4, 'the cap is reached (a and b hold 4 workers, now idle)');
    my $mark = $t->log_mark;
    my $res = $t->get('/c/x', timeout => 30);
    is($res->{status}, 200, 'the first request to c is answered');
    like($t->log_since($mark),
         qr/FcgiPmMaxProcesses 4 reached: app a gives its idle worker \d+ back \(it has 3\) for app c/,
         'a gave an idle worker back, logged');
    ok(wait_for(sub { count_workers($t, 'a') + count_workers($t, 'b') + count_workers($t, 'c') <= 4 }, 10),
       'still within the cap');
};

$t->stop;

subtest 'configtest refuses a cap below the floors' => sub {
    my $u = FcgiPmTest->new;
    my $h = $u->app('hello');
    $u->write_conf(join('', "FcgiPmMaxProcesses 2\n",
        app_conf('a', "$h --app=a", 'Processes 2'), app_conf('b', "$h --app=b", 'Processes 1')));
    my ($rc, $out) = $u->configtest;
    isnt($rc, 0, 'configtest fails');
    like($out, qr/httpd\.conf:\d+: FcgiPmMaxProcesses 2 is below the 3 workers the apps start/,
         'the error names file, line and problem');
};

done_testing;
