#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 11-control.t - steering apps without an Apache reload, and logs that
# follow the current error log.
#
# - RestartFile: touching the file (new mtime) rolls that app only: all its
#   worker pids are replaced, its generation (status page) grows by 1, the
#   other app keeps its workers, httpd does not reload, and a load of 3
#   clients sees no failed request.
# - SIGHUP to the manager (pid read from the default FcgiPmPidFile,
#   DefaultRuntimeDir/fcgi-pm.pid, and equal to the status page's) rolls
#   every app: all worker pids replaced, same manager, no httpd reload, no
#   failed request under load.
# - Log rotation: after renaming error.log and a graceful, the manager's
#   lines and a new worker's stderr line land in the new error.log, not in
#   the renamed one; FcgiPmPidFile set by that graceful is written.
# - Piped ErrorLog: after a graceful (a new logger process), a worker's
#   stderr line reaches the new logger.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use JSON::PP ();
use FcgiPmTest qw(wait_for pid_alive);

my $t0 = time;
my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my $restart_file = "$root/restart-roll.txt";
{ open my $fh, '>', $restart_file or die; close $fh }
utime(time - 60, time - 60, $restart_file);

my $body = <<"EOT";
<FcgiPmApp roll>
    Command $hello --app=roll
    Processes 2
    RestartFile $restart_file
    ShutdownTimeout 5
</FcgiPmApp>
<FcgiPmApp other>
    Command $hello --app=other
    Processes 2
    ShutdownTimeout 5
</FcgiPmApp>
<Location /roll>
    FcgiPmPass roll
</Location>
<Location /other>
    FcgiPmPass other
</Location>
<Location /fcgi-pm-status>
    SetHandler fcgi-pm-status
    Require local
</Location>
EOT
$t->write_conf($body);
my $ROLL = qr/--app=roll\b/;
my $OTHER = qr/--app=other\b/;

ok($t->start, 'httpd started');
ok(wait_for(sub { $t->workers(match => $ROLL) == 2 && $t->workers(match => $OTHER) == 2 }, 20),
   '2 + 2 workers');
ok($t->wait_ok('/roll/', 20), 'roll answers');
ok($t->wait_ok('/other/', 20), 'other answers');
my $manager = $t->manager_pid;
ok($manager, "manager $manager");
my $httpd = $t->httpd_pid;

my $json = JSON::PP->new->utf8;
sub status_json {
    my $r = $t->get('/fcgi-pm-status?format=json', timeout => 10);
    return undef unless $r->{status} == 200;
    return eval { $json->decode($r->{body}) };
}
sub app_gen {
    my ($name) = @_;
    my $j = status_json() or return undef;
    my ($a) = grep { $_->{name} eq $name } @{ $j->{apps} };
    return $a ? $a->{generation} : undef;
}

# Start a load on both apps, run CODE, keep the load on for a moment after,
# then check that every request succeeded.
sub under_load {
    my ($what, $code) = @_;
    my $load = $t->load_start(
        clients => 4, until_stopped => 1, max_seconds => 60, timeout => 30,
        path => sub { my ($c, $i) = @_; ($c % 2 ? '/other/' : '/roll/') . "?sleep=20&i=$i" },
        expect => qr/APP=hello-c/,
    );
    sleep 0.7;
    my $ok = $code->();
    sleep 1;
    my $s = $t->load_finish($load);
    cmp_ok($s->{total}, '>=', 20, "$what: load made $s->{total} requests");
    is($s->{ok}, $s->{total}, "$what: no failed request ("
       . FcgiPmTest::load_summary_text($s) . ')')
        or diag(join("\n", @{ $s->{errors} }));
    return $ok;
}

sub replaced {
    my ($re, @old) = @_;
    my @now = $t->workers(match => $re);
    my %old = map { $_ => 1 } @old;
    return @now == @old && !grep { $old{$_} } @now;
}

#----------------------------------------------------------------------------
subtest 'RestartFile' => sub {
    my @roll = $t->workers(match => $ROLL);
    my @other = $t->workers(match => $OTHER);
    my $gen = app_gen('roll');
    my $gens = $t->generations;
    my $mark = $t->log_mark;
    my $took;
    under_load('RestartFile', sub {
        my $t1 = time;
        utime(time, time, $restart_file) or die "utime: $!";
        my $ok = wait_for(sub { replaced($ROLL, @roll) }, 20, 0.05);
        $took = time - $t1;
        ok($ok, sprintf('roll workers replaced (%.2f s after the touch)', $took))
            or diag("before @roll, now " . join(' ', $t->workers(match => $ROLL)));
    });
    is_deeply([$t->workers(match => $OTHER)], \@other, 'other app kept its workers');
    is(app_gen('roll'), $gen + 1, "status: roll generation $gen -> " . ($gen + 1));
    is($t->manager_pid, $manager, 'same manager');
    is($t->httpd_pid, $httpd, 'same httpd');
    is($t->generations, $gens, 'no httpd reload');
    like($t->log_since($mark), qr/app roll: rolling restart.*RestartFile/,
         'log: roll restarted for its RestartFile');
};

#----------------------------------------------------------------------------
subtest 'SIGHUP' => sub {
    my $pidfile = "$root/run/fcgi-pm.pid";
    ok(wait_for(sub { -s $pidfile }, 5), "default FcgiPmPidFile $pidfile") or return;
    open my $fh, '<', $pidfile or die;
    my ($pid) = <$fh> =~ /(\d+)/;
    close $fh;
    is($pid, $manager, 'pid file names the manager');
    is(status_json()->{manager}{pid}, $manager, 'status page names the manager');

    my @roll = $t->workers(match => $ROLL);
    my @other = $t->workers(match => $OTHER);
    my %gen = (roll => app_gen('roll'), other => app_gen('other'));
    my $gens = $t->generations;
    under_load('SIGHUP', sub {
        my $t1 = time;
        ok(kill('HUP', $pid), "SIGHUP to $pid");
        my $ok = wait_for(sub { replaced($ROLL, @roll) && replaced($OTHER, @other) }, 20, 0.05);
        ok($ok, sprintf('every worker replaced (%.2f s)', time - $t1))
            or diag("roll @roll -> " . join(' ', $t->workers(match => $ROLL))
                    . "; other @other -> " . join(' ', $t->workers(match => $OTHER)));
    });
    is(app_gen($_), $gen{$_} + 1, "status: $_ generation + 1") for qw(roll other);
    is($t->manager_pid, $manager, 'same manager');
    is($t->httpd_pid, $httpd, 'same httpd');
    is($t->generations, $gens, 'no httpd reload');
};

#----------------------------------------------------------------------------
subtest 'error log renamed, then graceful' => sub {
    my $log = $t->logfile;
    my $old = "$log.1";
    my @before = $t->workers(match => $ROLL);
    ok(rename($log, $old), 'error.log renamed to error.log.1');
    # The graceful also sets FcgiPmPidFile.
    my $pidfile = "$root/run/custom-fcgi-pm.pid";
    $t->write_conf("FcgiPmPidFile $pidfile\n$body");
    ok($t->graceful, 'graceful');
    ok(-s $log, 'httpd writes a new error.log');
    is($t->manager_pid, $manager, 'same manager');
    ok(wait_for(sub { $t->workers(match => $ROLL) == 2 && $t->get('/roll/')->{status} == 200 }, 20),
       'roll serves after the graceful');
    ok(wait_for(sub { -s $pidfile }, 5), 'FcgiPmPidFile written at its new path');

    my $marker = 'rotated-stderr-' . int(rand(1e9));
    my $r = $t->get("/roll/?stderr=$marker");
    is($r->{status}, 200, 'stderr request answered');
    my $wpid = $r->{headers}{'x-worker-pid'} // '?';
    ok(!grep({ $_ == $wpid } @before), "worker $wpid was started after the graceful");
    ok(wait_for(sub { $t->log_text =~ /\Q$marker\E/ }, 5),
       "worker ${wpid}'s stderr line is in the new error.log");
    my $oldtext = do { local $/; open my $fh, '<', $old or die; <$fh> };
    unlike($oldtext, qr/\Q$marker\E/, '... and not in the renamed one');
    like($t->log_text, qr/\[fcgi_pm:[a-z]+\] \[pid $manager\b/,
         "the manager's own lines are in the new error.log");

    # The manager's line about a worker's end too.
    my @roll = $t->workers(match => $ROLL);
    kill 'KILL', $roll[0];
    ok(wait_for(sub { $t->log_text =~ /worker $roll[0] exited/ }, 10),
       "manager's exit line for worker $roll[0] is in the new error.log");
    $oldtext = do { local $/; open my $fh, '<', $old or die; <$fh> };
    unlike($oldtext, qr/worker $roll[0] exited/, '... and not in the renamed one');
};

#----------------------------------------------------------------------------
subtest 'piped ErrorLog' => sub {
    my $p = FcgiPmTest->new;
    my $proot = $p->root;
    my $phello = $p->app('hello');
    # A logger that appends to error.log (the harness watches it) and to a
    # file named after its own pid (which logger got which line).
    my $logger = "$proot/bin/logger.pl";
    open my $fh, '>', $logger or die;
    print {$fh} <<"EOT";
#!/usr/bin/perl
use strict; use warnings; use IO::Handle;
open my \$all, '>>', "$proot/logs/error.log" or die;
open my \$own, '>>', "$proot/logs/piped-\$\$.log" or die;
\$all->autoflush(1); \$own->autoflush(1);
while (my \$l = <STDIN>) { print {\$all} \$l; print {\$own} \$l; }
EOT
    close $fh;
    chmod 0755, $logger;
    my $conf = $p->write_conf(<<"EOT");
<FcgiPmApp roll>
    Command $phello --app=proll
    Processes 1
    ShutdownTimeout 5
</FcgiPmApp>
<Location /roll>
    FcgiPmPass roll
</Location>
EOT
    # Replace the harness's ErrorLog line with the piped one.
    my $text = do { local $/; open my $in, '<', $conf or die; <$in> };
    $text =~ s/^ErrorLog .*$/ErrorLog "|$logger"/m or die 'no ErrorLog line';
    open my $out, '>', $conf or die; print {$out} $text; close $out;

    ok($p->start, 'httpd with a piped ErrorLog started');
    ok($p->wait_ok('/roll/', 20), 'app answers');
    my $loggers = sub {
        opendir my $d, "$proot/logs" or return ();
        my @f = sort map { /^piped-(\d+)\.log$/ ? $1 : () } readdir $d;
        return @f;
    };
    my @before = $loggers->();
    ok(@before >= 1, "logger(s) @before");
    ok($p->graceful, 'graceful');
    my @new;
    ok(wait_for(sub { @new = grep { my $x = $_; !grep { $_ == $x } @before } $loggers->(); @new }, 10),
       "a new logger after the graceful: @new") or return;
    ok(wait_for(sub { $p->get('/roll/')->{status} == 200 }, 20), 'app answers after the graceful');
    my $marker = 'piped-stderr-' . int(rand(1e9));
    is($p->get("/roll/?stderr=$marker")->{status}, 200, 'stderr request answered');
    my $found = wait_for(sub {
        for my $lp ($loggers->()) {
            my $txt = do { local $/; open my $in, '<', "$proot/logs/piped-$lp.log" or next; <$in> };
            return $lp if $txt =~ /\Q$marker\E/;
        }
        return undef;
    }, 5);
    ok($found, 'the worker\'s stderr line reached a logger') or return;
    ok((grep { $_ == $found } @new), "... the new one ($found), not an old one (@before)");
    $p->stop;
};

note(sprintf('11-control.t took %.1f s', time - $t0));
done_testing;
