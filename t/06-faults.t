#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 06-faults.t - a worker killed with SIGKILL is replaced (new pid, child of
# the manager) while requests keep succeeding; the manager killed with
# SIGKILL is re-forked by the httpd parent (new pid, same parent) while a
# load of 4 clients sees no failure, httpd is not restarted, and the old
# workers are eventually replaced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive app_conf);

my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
$t->write_conf(app_conf('hello', "$hello --app=hello", 'Processes 2', 'ShutdownTimeout 3')
               . FcgiPmTest::status_conf());
my $W = qr/--app=hello\b/;

ok($t->start, 'httpd started');
my $httpd = $t->httpd_pid;
ok(wait_for(sub { $t->workers(match => $W) == 2 }, 20), '2 workers');
ok($t->wait_ok('/hello/', 20), 'app answers');
my $manager = $t->manager_pid;
ok($manager, "manager $manager");
my $gen = $t->generations;

# --- a worker dies -----------------------------------------------------------
subtest 'worker killed' => sub {
    my @before = $t->workers(match => $W);
    my $victim = $before[0];
    my ($survivor) = grep { $_ != $victim } @before;
    ok(FcgiPmTest::kill_pid('KILL', $victim), "kill -9 worker $victim");
    # Sequential requests while the replacement appears: all must succeed.
    my @bad;
    my $n = 0;
    my $kill_time = time;
    my $replaced = wait_for(sub {
        my $r = $t->get("/hello/k?n=$n", timeout => 10);
        $n++;
        push @bad, "$r->{status} $r->{error}" unless $r->{status} == 200 && $r->{body} =~ /^APP=hello-c$/m;
        my @now = $t->workers(match => $W);
        # keep requesting for at least 1.5 s after the kill
        return time - $kill_time >= 1.5
            && @now == 2 && !(grep { $_ == $victim } @now) && (grep { $_ == $survivor } @now);
    }, 15, 0.02);
    my @after = $t->workers(match => $W);
    ok($replaced, "worker replaced (before: @before; after: @after)");
    my ($new) = grep { $_ != $survivor } @after;
    if ($new) {
        is(FcgiPmTest::proc_stat($new)->{ppid}, $manager, "replacement $new is a child of the manager");
    }
    ok(!pid_alive($victim), 'killed worker is gone (reaped)');
    is(scalar @bad, 0, "all $n requests during the replacement succeeded") or diag("@bad");
    # keep requesting a little after the replacement, too
    for (1 .. 20) {
        my $r = $t->get('/hello/after');
        push @bad, "$r->{status} $r->{error}" unless $r->{status} == 200;
    }
    is(scalar @bad, 0, 'requests after the replacement succeed');
    ok(wait_for(sub { $t->log_text =~ /app hello: worker $victim exited/ }, 5),
       "log: app hello: worker $victim exited");
    is($t->manager_pid, $manager, 'manager unchanged');
};

# --- the manager dies --------------------------------------------------------
subtest 'manager killed' => sub {
    my @old_workers = $t->workers(match => $W);
    my $load = $t->load_start(
        clients       => 4,
        until_stopped => 1,
        min_requests  => 100,
        max_seconds   => 90,
        timeout       => 30,
        think_ms      => 10,
        expect        => qr/^APP=hello-c$/m,
        path          => sub { "/hello/m?c=$_[0]&i=$_[1]" . (($_[1] % 10 == 5) ? '&sleep=300' : '') },
    );
    sleep 1;
    ok(FcgiPmTest::kill_pid('KILL', $manager), "kill -9 manager $manager");
    my $new = wait_for(sub {
        my @m = $t->managers;
        return @m == 1 && $m[0] != $manager ? $m[0] : undef;
    }, 15, 0.1);
    ok($new, 'a new manager appeared' . ($new ? " ($new)" : ''));
    if ($new) {
        is(FcgiPmTest::proc_stat($new)->{ppid}, $httpd, 'new manager is a child of the httpd parent');
    }
    ok(!pid_alive($manager), 'old manager is gone');
    # Old workers are eventually replaced by workers of the new manager.
    my $replaced = wait_for(sub {
        return 0 unless $new;
        my @w = $t->workers(match => $W, manager => $new);
        return @w == 2 && !(grep { pid_alive($_) } @old_workers);
    }, 30, 0.2);
    ok($replaced, 'old workers gone, new manager has 2 workers (old: ' . "@old_workers"
       . '; new: ' . join(' ', $new ? $t->workers(match => $W, manager => $new) : ()) . ')');
    sleep 2;    # keep the load running on the new workers a little
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 100, "load ran ($s->{total} requests)");
    is($s->{failed}, 0, 'no failed request while the manager was replaced');
    is($s->{non2xx}, 0, 'no non-2xx answer while the manager was replaced');
    is($s->{bad_body}, 0, 'every answer from the app');
    diag(join "\n", @{ $s->{errors} }) if $s->{failed} || $s->{non2xx} || $s->{bad_body};
    is($t->httpd_pid, $httpd, 'httpd parent unchanged');
    is($t->generations, $gen, 'httpd did not restart itself (no new generation)');
    ok($t->wait_ok('/hello/', 10), 'app answers after the manager was replaced');
    # The new manager takes the dead one's table slot over (by name) rather
    # than claiming a second one: listed once, its request count goes on.
    my $j = $t->status_json;
    my @hello = grep { $_->{name} eq 'hello' } @{ $j ? $j->{apps} || [] : [] };
    is(scalar @hello, 1, 'the status page lists hello once after the manager was replaced')
        or diag(explain(\@hello));
    cmp_ok(@hello ? $hello[0]{requests} // 0 : 0, '>=', $s->{total},
           'its request count includes the requests before the manager died');
};

ok($t->stop, 'httpd stopped');
ok(wait_for(sub { !$t->our_processes }, 15), 'nothing left after stop')
    or diag('left: ' . join(', ', map { "$_ " . (FcgiPmTest::proc_cmdline($_) // '') } $t->our_processes));
done_testing;
