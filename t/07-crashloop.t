#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 07-crashloop.t - an app whose workers exit at once (CRASH_AT_START=1):
# httpd stays up, requests to it get a fast 503, the manager backs off
# exponentially ("backing off ... for N s", N doubling, logged once per
# step, not once per crash), and a good app next to it serves 200
# throughout.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my $count_file = "$root/crash/count.txt";
mkdir "$root/crash"; chmod 0777, "$root/crash";
{ open my $fh, '>', $count_file or die; close $fh; chmod 0666, $count_file }

$t->write_conf(<<"EOT");
<FcgiPmApp crash>
    Command $hello --app=crash
    Processes 2
    Env CRASH_AT_START 1
    Env CRASH_COUNT_FILE $count_file
    ShutdownTimeout 3
</FcgiPmApp>
<Location /crash>
    FcgiPmPass crash
</Location>
<FcgiPmApp good>
    Command $hello --app=good
    Processes 1
    ShutdownTimeout 3
</FcgiPmApp>
<Location /good>
    FcgiPmPass good
</Location>
EOT

sub crashes { open my $fh, '<', $count_file or return 0; my @l = <$fh>; return scalar @l }
# Backoff steps: lines of app crash that say "backing off ... for N s"
# (wherever "backing off" stands in the line; the exact contract wording
# "app crash: backing off" is checked separately).
sub backoff_lines { grep { /app crash: .*backing off/ } split /\n/, $t->log_text }
sub backoff_values {
    my @v;
    for (backoff_lines()) {
        push @v, $1 + 0 if /backing off.*?\bfor (\d+(?:\.\d+)?) ?s\b/;
    }
    return @v;
}

ok($t->start, 'httpd starts although one app crashes at start');
my $httpd = $t->httpd_pid;
my $gen = $t->generations;
ok($t->wait_ok('/good/', 20), 'good app answers');
ok(wait_for(sub { backoff_values() >= 1 }, 15), 'log: a "backing off ... for N s" line for app crash')
    or diag($t->log_tail(30));
like($t->log_text, qr/app crash: backing off/, 'log wording as documented: "app crash: backing off"')
    or diag("lines with 'backing off':\n" . join("\n", backoff_lines()));
my $t0 = time;
my $crashes0 = crashes();

my $load = $t->load_start(
    clients => 2, until_stopped => 1, min_requests => 20, think_ms => 50,
    max_seconds => 90, timeout => 30, expect => qr/^APP=hello-c$/m,
    path => sub { "/good/g?c=$_[0]&i=$_[1]" },
);

# Requests to the crashing app during ~14 s of backoff: fast 503s.
my @answers;
while (time - $t0 < 14) {
    my $r = $t->get('/crash/x', timeout => 30);
    push @answers, $r;
    sleep 0.7;
}
my @not503 = grep { $_->{status} != 503 } @answers;
my @slow   = grep { $_->{elapsed} >= 2000 } @answers;
my @over1s = grep { $_->{elapsed} >= 1000 } @answers;
my ($max) = sort { $b <=> $a } map { $_->{elapsed} } @answers;
is(scalar @not503, 0, sprintf('all %d requests to the crashing app answered 503', scalar @answers))
    or diag('statuses: ' . join(' ', map { $_->{status} } @answers));
is(scalar @slow, 0, sprintf('each 503 came fast (max %.0f ms; limit 2000 ms)', $max // 0));
note(sprintf('%d of %d 503s took >= 1 s', scalar @over1s, scalar @answers));

my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));
is($s->{failed} + $s->{non2xx} + $s->{bad_body}, 0, "good app served 200 throughout ($s->{total} requests)")
    or diag(join "\n", @{ $s->{errors} });

# Backoff: N doubles, one line per step.
my @v = backoff_values();
my $crashes = crashes();
my $elapsed = time - $t0;
note("backoff values: @v; crashes: $crashes (at first backoff: $crashes0) in " . sprintf('%.1f', $elapsed) . ' s');
cmp_ok(scalar @v, '>=', 2, 'at least 2 backoff steps logged in ~15 s');
if (@v >= 2) {
    cmp_ok($v[1], '>', $v[0], "backoff grows ($v[0] s then $v[1] s)");
    is($v[1], 2 * $v[0], 'backoff doubles');
    my @decreasing = grep { $v[$_] < $v[$_ - 1] } 1 .. $#v;
    ok(!@decreasing, 'backoff never shrinks while the app keeps crashing');
    # At most one line per distinct step, except a repeated cap (max value).
    my %seen;
    my @dups = grep { $seen{$_}++ && $_ != $v[-1] } @v;
    ok(!@dups, 'at most one "backing off" line per backoff step') or diag("values: @v");
}
cmp_ok($crashes, '>=', 2, "the app was really started and crashed ($crashes times)");
cmp_ok($crashes, '<=', 40, "no tight crash loop: $crashes crashes in ~15 s");
my $crash_log_lines = () = backoff_lines();
cmp_ok($crash_log_lines, '<=', $crashes, '"backing off" lines not more than crashes');

# Worker stderr made it to the log.
like($t->log_text, qr/app crash: worker \d+: hello: CRASH_AT_START set/,
     'log: crashing worker\'s stderr as "app crash: worker PID: ..."');

# The good app is not backing off and httpd was never restarted.
unlike($t->log_text, qr/app good: backing off/, 'good app never backs off');
is($t->httpd_pid, $httpd, 'httpd parent still up (same pid)');
is($t->generations, $gen, 'httpd was not restarted');
ok($t->manager_pid, 'manager still up');
is($t->get('/good/')->{status}, 200, 'good app still answers');

ok($t->stop, 'httpd stopped');
done_testing;
