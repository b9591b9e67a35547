#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 27-documented.t - promises of README.md that no other test asserts:
#  (c) MaxProcesses below Processes fails configtest with the file, the
#      line and the problem (either order of the two directives);
#  (d) a socket path too long for sun_path (FcgiPmSocketDir) fails
#      configtest, naming the FcgiPmSocketDir line; 107 bytes still pass;
#  (a) the fast 503 of an app in start-up backoff carries Retry-After
#      with a positive number of seconds;
#  (b) PassEnv: the worker gets httpd's value and nothing else of httpd's
#      environment; "a changed PassEnv value restarts the app at the next
#      graceful" is TODO: httpd's parent keeps the environment it was
#      started with, and a graceful (apache2 -k graceful, apachectl
#      graceful) only signals it, so the value cannot change;
#  (e) "app NAME: no longer configured; draining" is logged once per
#      removal, not again at a later graceful while the app still drains.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(app_conf wait_for pid_alive);

my $t = FcgiPmTest->new(env => { T27_PASSED => 'one', T27_NOT_PASSED => 'x' });
my $root = $t->root;
my $hello = $t->app('hello');

# "base.conf:12" or "line 12 of /path/base.conf" (as in t/01).
sub reported_lines {
    my ($out, $base) = @_;
    my $qb = quotemeta $base;
    my @l;
    push @l, $1 while $out =~ /$qb:(\d+)/g;
    push @l, $1 while $out =~ /line (\d+) of \S*$qb/g;
    return @l;
}

# configtest of BODY written to FILE: ($rc, $out, $path).
sub configtest_of {
    my ($file, $body, %opt) = @_;
    my $path = $t->write_conf($body, file => $file, %opt);
    my ($rc, $out) = $t->configtest($path);
    note("$file: $out");
    return ($rc, $out, $path);
}

#---------------------------------------------------------------- (c)
for my $case (['max-below-processes', 'Processes 2', 'MaxProcesses 1'],
              ['max-first-below-processes', 'MaxProcesses 2', 'Processes 3']) {
    my ($name, @lines) = @$case;
    my $file = "$name.conf";
    my ($rc, $out, $path) = configtest_of($file, app_conf('mp', $hello, @lines));
    my @want = grep { defined } ($t->conf_line_of($path, qr/^<FcgiPmApp mp>/),
                                 $t->conf_line_of($path, qr/^\s*MaxProcesses /));
    subtest "configtest refuses $lines[0] / $lines[1]" => sub {
        isnt($rc, 0, "configtest fails (exit $rc)");
        unlike($out, qr/Syntax OK/, 'no "Syntax OK"');
        like($out, qr/\Q$file\E/, "message names the file $file");
        my @got = reported_lines($out, $file);
        my %want = map { $_ => 1 } @want;
        ok((grep { $want{$_} } @got),
           "message gives the app's or the MaxProcesses line (@want; reported: "
           . (join(',', @got) || 'none') . ')');
        like($out, qr/MaxProcesses \d+ is below Processes \d+/,
             'message says MaxProcesses is below Processes');
    };
}
{
    my ($rc, $out) = configtest_of('max-equal.conf',
                                   app_conf('mp', $hello, 'Processes 2', 'MaxProcesses 2'));
    is($rc, 0, 'MaxProcesses equal to Processes passes configtest') or diag($out);
}

#---------------------------------------------------------------- (d)
# The socket is DIR/NAME.sock; sun_path holds 107 bytes and the NUL.
{
    my $name = 'ln';                         # "/ln.sock": 8 bytes
    my $base = "$root/sd";
    my $dir_of = sub {                       # a directory path of LEN bytes
        my ($len) = @_;
        my $d = $base . '/' . ('d' x ($len - length($base) - 1));
        make_path($d);
        chmod 0755, $base, $d;
        return $d;
    };
    my $ok_dir = $dir_of->(107 - 8);
    my $long_dir = $dir_of->(108 - 8);
    my $very_long_dir = $dir_of->(130);
    my $app = app_conf($name, $hello, 'Processes 1');

    for my $case (['sockdir-108.conf', $long_dir], ['sockdir-138.conf', $very_long_dir]) {
        my ($file, $dir) = @$case;
        my ($rc, $out, $path) = configtest_of($file, $app, sockdir => $dir);
        my $len = length("$dir/$name.sock");
        my $want = $t->conf_line_of($path, qr/^FcgiPmSocketDir /);
        subtest "configtest refuses a socket path of $len bytes" => sub {
            isnt($rc, 0, "configtest fails (exit $rc)");
            unlike($out, qr/Syntax OK/, 'no "Syntax OK"');
            like($out, qr/\Q$file\E/, "message names the file $file");
            my @got = reported_lines($out, $file);
            ok((grep { $_ == $want } @got),
               "message gives the FcgiPmSocketDir line $want (reported: "
               . (join(',', @got) || 'none') . ')');
            like($out, qr/too long/, 'message says the path is too long');
            like($out, qr/FcgiPmSocketDir/, 'message names FcgiPmSocketDir');
        };
    }
    my ($rc, $out) = configtest_of('sockdir-107.conf', $app, sockdir => $ok_dir);
    is($rc, 0, 'a socket path of 107 bytes passes configtest') or diag($out);
}

#---------------------------------------------------------------- server
my $crash_count = "$root/crash-count.txt";
{ open my $fh, '>', $crash_count or die; close $fh; chmod 0666, $crash_count }
my $crash_app = app_conf('crash', "$hello --app=crash", 'Processes 1', 'ShutdownTimeout 3',
                         'Env CRASH_AT_START 1', "Env CRASH_COUNT_FILE $crash_count");
my $pe_app = app_conf('pe', "$hello --app=pe", 'Processes 1', 'PassEnv T27_PASSED',
                      'RestartOnGraceful Off', 'ShutdownTimeout 3');
my $slow_app = app_conf('slow', "$hello --app=slow", 'Processes 1', 'ShutdownTimeout 30');
$t->write_conf($crash_app . $pe_app . $slow_app);
ok($t->start, 'httpd starts');

#---------------------------------------------------------------- (a)
ok(wait_for(sub { $t->log_text =~ /app crash: backing off/ }, 20),
   'the crashing app backs off') or diag($t->log_tail(20));
{
    my $r = $t->get('/crash/');
    is($r->{status}, 503, 'a request to the app in backoff gets 503');
    my $ra = $r->{headers}{'retry-after'};
    ok(defined $ra, 'the 503 carries Retry-After') or diag(explain($r->{headers}));
    like($ra // '', qr/^[1-9][0-9]*$/, 'Retry-After is a positive integer (' . ($ra // 'none') . ')');
    cmp_ok($ra // 0, '<=', 60, 'Retry-After is at most the 60 s backoff cap');
}

#---------------------------------------------------------------- (b)
sub environ_of {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/environ" or return undef;
    local $/;
    my $e = <$fh> // '';
    close $fh;
    return { map { /^([^=]*)=(.*)$/s ? ($1 => $2) : () } split /\0/, $e };
}
ok($t->wait_ok('/pe/', 20), 'app pe answers');
my @pe0 = $t->workers(match => qr/--app=pe\b/);
is(scalar @pe0, 1, 'one worker of pe');
like($t->get('/pe/?env=T27_PASSED')->{body}, qr/^ENV_T27_PASSED=one$/m,
     'the worker sees httpd\'s value of a PassEnv variable');
{
    my $env = @pe0 ? environ_of($pe0[0]) : undef;
    is_deeply([sort keys %{ $env || {} }], ['T27_PASSED'],
              'its environment holds the PassEnv variable and nothing else of httpd\'s')
        or diag(explain($env));
}
TODO: {
    local $TODO = 'httpd\'s parent keeps the environment it was started with: a graceful '
                . 'cannot change a PassEnv value (README says so)';
    $t->{env}{T27_PASSED} = 'two';          # what "T27_PASSED=two apachectl graceful" does
    $t->graceful;
    my $rolled = wait_for(sub {
        my @w = $t->workers(match => qr/--app=pe\b/);
        @w && !grep { my $w = $_; grep { $_ == $w } @pe0 } @w;
    }, 6);
    ok($rolled, 'a changed PassEnv value rolls the app at the graceful');
    like($t->get('/pe/?env=T27_PASSED')->{body}, qr/^ENV_T27_PASSED=two$/m,
         'the new worker sees the new value');
    $t->{env}{T27_PASSED} = 'one';
}

#---------------------------------------------------------------- (e)
{
    ok($t->wait_ok('/slow/', 20), 'app slow answers');
    my @slow = $t->workers(match => qr/--app=slow\b/);
    my $load = $t->load_start(clients => 1, min_requests => 1, timeout => 40,
                              path => '/slow/x?sleep=9000', expect => qr/^APP=hello-c$/m);
    sleep 1.5;                               # the worker is serving it
    my $mark = $t->log_mark;
    $t->write_conf($crash_app . $pe_app);
    $t->graceful;
    sleep 1;
    $t->graceful;
    sleep 1;
    my $since = $t->log_since($mark);
    unlike($since, qr/app slow: removed, its workers have drained/,
           'app slow still drains at the second graceful') or diag($since);
    ok((grep { pid_alive($_) } @slow), 'its busy worker is still there');
    ok(wait_for(sub { $t->log_since($mark) =~ /app slow: removed, its workers have drained/ }, 30),
       'app slow drains, then is removed') or diag($t->log_tail(30));
    my $s = $t->load_finish($load);
    is($s->{ok}, 1, 'the request in flight was answered') or diag(FcgiPmTest::load_summary_text($s));
    my $n = () = $t->log_since($mark) =~ /app slow: no longer configured; draining/g;
    is($n, 1, '"no longer configured; draining" logged once for two gracefuls while it drained');
}

ok($t->stop, 'httpd stopped');
done_testing;
