#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 21-servers.t - real FastCGI servers from Debian's packages (issue 7).
#
# One httpd runs five apps, each a server that does not simply block in
# accept() on fd 0 itself:
#   pm       FCGI::ProcManager, n_processes 2   Processes 1, StopSignal TERM
#   php      php-cgi, PHP_FCGI_CHILDREN=2        Processes 1, StopSignal TERM
#   cgi      fcgiwrap -c 2 (a shell CGI script)  Processes 1, StopSignal TERM
#   go       Go net/http/fcgi                    Processes 2, StopSignal TERM
#   plack    plackup -s FCGI --nproc 2 on fd 0   Processes 1, StopSignal TERM
# (t/SERVERS.md says why each StopSignal.)  For each app:
#   - it serves (its own answer);
#   - it becomes ready: within 10 s the JSON status page shows workers and
#     none of them "starting";
#   - under load (10 clients, 1 request in 10 sleeps 500 ms) across 5
#     gracefuls: zero failed, zero non-2xx requests;
#   - afterwards its process count returns to what it was (no orphans of
#     retired trees keep running);
#   - after stop nothing of it is left.
# An app whose package is missing is skipped with a message.
# FCGI_PM_NO_STOPSIGNAL=1 leaves the StopSignal lines out (to try a build
# that does not know the directive yet).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for has_go);

my $t = FcgiPmTest->new(mpm => 'event');
my $root = $t->root;
my $docroot = $t->docroot;
my $tag = $t->tag_env;
my $stop = sub { $ENV{FCGI_PM_NO_STOPSIGNAL} ? () : ("StopSignal $_[0]") };

my $have_pm = eval { require FCGI; require FCGI::ProcManager; 1 };
my %apps = (
    pm => {
        need => $have_pm ? '' : 'FCGI::ProcManager missing (install libfcgi-procmanager-perl)',
        path => '/pm/x', expect => 'procmanager', procs => 3,
        conf => sub {
            my $cmd = $t->app('procmanager.pl');
            return ("Command $cmd", 'Processes 1', 'Env PM_PROCESSES 2', $stop->('TERM'));
        },
    },
    php => {
        need => -x '/usr/bin/php-cgi' ? '' : 'no /usr/bin/php-cgi (install php-cgi)',
        path => '/hello.php', expect => 'hello-php', procs => 3, files => '*.php',
        conf => sub {
            $t->docfile('hello.php');
            return ("Command /usr/bin/php-cgi -d fcgipm.tag=$root", 'Processes 1',
                    'Env PHP_FCGI_CHILDREN 2', 'Env PHP_FCGI_MAX_REQUESTS 100000', $stop->('TERM'));
        },
    },
    cgi => {
        need => -x '/usr/sbin/fcgiwrap' ? '' : 'no /usr/sbin/fcgiwrap (install fcgiwrap)',
        path => '/hello.cgi', expect => 'fcgiwrap', procs => 3, files => '*.cgi',
        conf => sub {
            my $cgi = $t->docfile('hello.cgi');
            chmod 0755, $cgi;
            return ("Command /usr/sbin/fcgiwrap -c 2 -p $cgi", 'Processes 1', $stop->('TERM'));
        },
    },
    go => {
        need => has_go() ? '' : 'no go compiler (install golang-go)',
        path => '/go/x', expect => 'go', procs => 2,
        conf => sub {
            my $bin = $t->app('gofcgi');
            return ("Command $bin", 'Processes 2', $stop->('TERM'));
        },
    },
    plack => {
        need => -x '/usr/bin/plackup' && $have_pm ? '' : 'no plackup or FCGI::ProcManager (install libplack-perl, libfcgi-procmanager-perl)',
        path => '/plack/x', expect => 'plack', procs => 3,
        conf => sub {
            my $psgi = $t->app('app.psgi');
            return ("Command /usr/bin/plackup -s FCGI -E deployment --nproc 2 $psgi", 'Processes 1', $stop->('TERM'));
        },
    },
);
my @names = sort keys %apps;
my @run = grep { !$apps{$_}{need} } @names;
for my $n (grep { $apps{$_}{need} } @names) {
    diag("skipping app $n: $apps{$n}{need}");
}
plan skip_all => 'none of the servers is installed' unless @run;

my $body = '';
my %files;
for my $n (@run) {
    my $a = $apps{$n};
    my @lines = ($a->{conf}->(), 'ShutdownTimeout 10', $tag, "Env FCGIPM_APP $n",
                 'WorkingDirectory ' . $t->workdir($n));
    my $cmd = shift(@lines) =~ s/^Command //r;
    $body .= "<FcgiPmApp $n>\n    Command $cmd\n" . join('', map { "    $_\n" } @lines) . "</FcgiPmApp>\n";
    if ($a->{files}) {
        $files{$a->{files}} = $n;
    } else {
        $body .= "<Location /$n>\n    FcgiPmPass $n\n</Location>\n";
    }
}
if (%files) {
    $body .= "<Directory \"$docroot\">\n";
    $body .= "    <Files \"$_\">\n        FcgiPmPass $files{$_}\n    </Files>\n" for sort keys %files;
    $body .= "</Directory>\n";
}
$body .= FcgiPmTest::status_conf();
$t->write_conf($body);

# Processes of one app, whatever their names: its working directory
# ROOT/wd/NAME, or its Env FCGIPM_APP (php-cgi may chdir to the script).
sub app_procs {
    my ($name) = @_;
    my $wd = "$root/wd/$name";
    my @p;
    for my $pid ($t->tagged_processes) {
        my $cwd = readlink("/proc/$pid/cwd") // '';
        if ($cwd eq $wd) { push @p, $pid; next }
        open my $fh, '<', "/proc/$pid/environ" or next;
        local $/;
        my $env = <$fh> // '';
        push @p, $pid if index("\0$env\0", "\0FCGIPM_APP=$name\0") >= 0;
    }
    return @p;
}

sub describe {
    return join(', ', map { "$_ (" . (FcgiPmTest::proc_cmdline($_) // '?') . ')' } @_);
}

ok($t->start(timeout => 40), 'httpd started');

for my $n (@run) {
    my $a = $apps{$n};
    my $r = $t->wait_ok($a->{path}, 30);
    ok($r && $r->{body} =~ /^APP=\Q$a->{expect}\E$/m, "$n: serves ($a->{path})")
        or diag("$n: " . ($r ? $r->{body} : 'no 2xx answer: ' . $t->get($a->{path})->{status}));
}

# Ready: the status page shows every app's workers, none "starting".
my %state;
my $ready = wait_for(sub {
    my $j = $t->status_json or return 0;
    my $all = 1;
    for my $n (@run) {
        my ($app) = grep { $_->{name} eq $n } @{ $j->{apps} || [] };
        my @w = $app ? @{ $app->{workers} || [] } : ();
        $state{$n} = join(' ', map { "$_->{pid}:$_->{state}" } @w) || 'no workers';
        $all = 0 unless @w && !grep { $_->{state} eq 'starting' } @w;
    }
    return $all;
}, 10, 0.25);
for my $n (@run) {
    ok($state{$n} && $state{$n} ne 'no workers' && $state{$n} !~ /starting/,
       "$n: ready within 10 s (status page: $state{$n})");
}

my %baseline = map { my $n = $_; ($n => scalar(app_procs($n))) } @run;
for my $n (@run) {
    is($baseline{$n}, $apps{$n}{procs}, "$n: $apps{$n}{procs} processes running")
        or diag("$n: " . describe(app_procs($n)));
}

my $manager = $t->manager_pid;
my $load = $t->load_start(
    clients => 10, until_stopped => 1, max_seconds => 90, timeout => 30,
    expect  => qr/^APP=(?:procmanager|hello-php|fcgiwrap|go|plack)$/m,
    path    => sub {
        my ($c, $i) = @_;
        my $n = $run[($c + $i) % @run];
        my $p = $apps{$n}{path};
        my $sleep = ($i % 10 == 3) ? '&sleep=500' : '';
        return "$p?c=$c&i=$i$sleep";
    },
);
sleep 1.5;
for my $g (1 .. 5) {
    ok(eval { $t->graceful }, "graceful $g") or diag($@);
    sleep 1.5;
}
my $s = $t->load_finish($load);
note('all apps: ' . FcgiPmTest::load_summary_text($s));
for my $n (@run) {
    my $p = $apps{$n}{path};
    my @rec = grep { index($_->[4], "$p?") == 0 } @{ $s->{records} };
    my @bad = grep { !$_->[3] } @rec;
    my %st;
    $st{$_->[2]}++ for @rec;
    my $sleepers = grep { $_->[4] =~ /sleep=/ } @rec;
    cmp_ok(scalar @rec, '>=', 20, "$n: at least 20 requests under load (" . scalar(@rec) . ", $sleepers slow)");
    is(scalar @bad, 0, "$n: zero failed requests across 5 gracefuls (status "
       . join(' ', map { "$_:$st{$_}" } sort keys %st) . ')')
        or diag(join "\n", map { "$n: status $_->[2] after $_->[1] ms on $_->[4]: " . ($_->[5] // '') } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
}
is($t->manager_pid, $manager, 'manager unchanged');

# Retired trees end: each app is back to its process count (no orphans).
for my $n (@run) {
    my $back = wait_for(sub { app_procs($n) == $baseline{$n} }, 25, 0.25);
    ok($back, "$n: back to $baseline{$n} processes after the gracefuls")
        or diag("$n: " . describe(app_procs($n)));
}
my $log = $t->log_text;
unlike($log, qr/ShutdownTimeout\); killing it/, 'no retired worker was killed at ShutdownTimeout');

ok($t->stop, 'httpd stopped');
for my $n (@run) {
    ok(wait_for(sub { !app_procs($n) }, 20), "$n: nothing left after stop")
        or diag("$n: left: " . describe(app_procs($n)));
}
ok(wait_for(sub { !$t->our_processes }, 10), 'nothing of the server left after stop')
    or diag('left: ' . describe($t->our_processes));
$t->cleanup;
done_testing;
