#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 05-slowstart.t - an app that takes 3 s to start (START_DELAY_MS=3000):
# across 3 gracefuls, a steady trickle of requests never waits for the
# start-up (no request takes >= 2500 ms), because new workers are ready
# before the old ones retire.  Also: the first request after start-up does
# not wait for the app either.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive);

my $LIMIT_MS = 2500;
my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
$t->write_conf(<<"EOT");
<FcgiPmApp slow>
    Command $hello --app=slow
    Processes 2
    Env START_DELAY_MS 3000
    ShutdownTimeout 10
</FcgiPmApp>
<Location /slow>
    FcgiPmPass slow
</Location>
EOT

my $started = time;
ok($t->start, 'httpd started');
my $first = $t->get('/slow/first', timeout => 30);
is($first->{status}, 200, 'first request after start: 200');
cmp_ok($first->{elapsed}, '<', $LIMIT_MS,
       sprintf('first request after start did not wait for the 3 s start-up (%.0f ms; start took %.1f s)',
               $first->{elapsed}, time - $started));
ok($t->wait_ok('/slow/', 30), 'app answers');
ok(wait_for(sub { $t->workers(match => qr/--app=slow\b/) == 2 }, 20), '2 workers');
my $manager = $t->manager_pid;

my $t0 = time;
my $load = $t->load_start(
    clients       => 3,
    until_stopped => 1,
    min_requests  => 30,
    think_ms      => 100,
    max_seconds   => 120,
    timeout       => 30,
    expect        => qr/^APP=hello-c$/m,
    path          => sub { "/slow/x?c=$_[0]&i=$_[1]" },
);
sleep 1;

my @windows;
for my $g (1 .. 3) {
    my @old = $t->workers(match => qr/--app=slow\b/);
    my $from = time;
    ok(eval { $t->graceful }, "graceful $g") or diag($@);
    my $done = wait_for(sub {
        my @now = $t->workers(match => qr/--app=slow\b/);
        my %o = map { $_ => 1 } @old;
        @now == 2 && !(grep { $o{$_} } @now) && !(grep { pid_alive($_) } @old);
    }, 40, 0.1);
    my $to = time;
    ok($done, sprintf('graceful %d: workers replaced in %.1f s (old: %s; new: %s)',
                      $g, $to - $from, "@old", join(' ', $t->workers(match => qr/--app=slow\b/))));
    cmp_ok($to - $from, '>=', 2.5, 'replacement took at least the start-up delay (new workers really started)')
        if $done;
    push @windows, [$from, $to];
    sleep 1;
}
my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));

is($s->{failed}, 0, 'no failed request');
is($s->{non2xx}, 0, 'no non-2xx answer');
is($s->{bad_body}, 0, 'every answer from the app');
my @slow = grep { $_->[1] >= $LIMIT_MS } @{ $s->{records} };
ok(!@slow, sprintf('no request took >= %d ms (max %.0f ms over %d requests)', $LIMIT_MS, $s->{max_ms}, $s->{total}))
    or diag(join "\n", map { sprintf('started at +%.1f s: %.0f ms status %s %s', $_->[0] - $t0, $_->[1], $_->[2], $_->[4]) } @slow[0 .. ($#slow > 9 ? 9 : $#slow)]);

# The trickle really covered each replacement window.
for my $i (0 .. $#windows) {
    my ($from, $to) = @{ $windows[$i] };
    my $n = grep { $_->[0] >= $from && $_->[0] <= $to } @{ $s->{records} };
    cmp_ok($n, '>=', 5, sprintf('graceful %d: %d requests started during the %.1f s replacement', $i + 1, $n, $to - $from));
}
is($t->manager_pid, $manager, 'manager unchanged');

ok($t->stop, 'httpd stopped');
done_testing;
