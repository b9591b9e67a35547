#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 14-security.t - root never trusts what less-privileged processes can write
# (issue 8).  A helper process that drops to www-data (httpd's User, the
# identity of code running in an httpd child or in a default worker) plays
# the attacker.
#
# - configtest refuses, naming file:line: a world-writable, a symlinked or
#   a foreign-owned FcgiPmSocketDir (also the default one), httpd's
#   "Group root", an unterminated quote, an app record too large for the
#   protocol, more apps than the table holds; "User #33"/"Group #33" are
#   accepted as httpd accepts them.
# - the socket directory is root:www-data 0710 and sockets root:www-data
#   0660; www-data cannot create or rename entries in it; a worker of app A
#   (its exact uid/gid/groups) cannot connect to app B's socket while
#   httpd's children (www-data:www-data) can; a directory left by earlier
#   versions (www-data 0700) is taken over.
# - pid file: symlinks planted at the pid file and at the old predictable
#   temporary name never make root write through them; FIFOs there do not
#   hang start, graceful or stop.
# - a socket path something else still listens on is never unlinked, and
#   the app's requests are not handed to that server (503); once it is dead,
#   a graceful replaces it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Fcntl qw(:mode O_CREAT O_EXCL O_WRONLY);
use POSIX ();
use Socket ();
use IO::Socket::UNIX;
use File::Path qw(make_path);
use FcgiPmTest qw(wait_for);

my ($www_uid, $www_gid) = (getpwnam('www-data'))[2, 3];
my ($nobody_uid) = (getpwnam('nobody'))[2];
defined $www_uid && defined $nobody_uid or plan skip_all => 'needs users www-data and nobody';

# as_ids($uid, $gid, [@groups], sub { ... return $exit_code }) -> exit code
# of the sub run in a forked child with exactly those ids.
sub as_ids {
    my ($uid, $gid, $groups, $code) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        $) = join ' ', $gid, @$groups ? @$groups : ($gid);
        POSIX::setgid($gid) or POSIX::_exit(90);
        POSIX::setuid($uid) or POSIX::_exit(91);
        POSIX::_exit(92) if $< != $uid || $> != $uid;
        my $rc = eval { $code->() };
        POSIX::_exit(defined $rc ? $rc : 93);
    }
    waitpid($pid, 0);
    return $? >> 8;
}
sub as_www { as_ids($www_uid, $www_gid, [$www_gid], @_) }

# 0 connected, 1 refused (EACCES/EPERM), 2 other error.
sub try_connect {
    my ($path) = @_;
    return sub {
        my $s = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Peer => $path);
        return 0 if $s;
        return ($!{EACCES} || $!{EPERM}) ? 1 : 2;
    };
}

sub slurp { my ($f) = @_; open my $fh, '<', $f or return undef; local $/; my $c = <$fh>; close $fh; $c }

#----------------------------------------------------------------------------
# Configuration test
#----------------------------------------------------------------------------
subtest 'configtest' => sub {
    my $t = FcgiPmTest->new;
    my $root = $t->root;
    my $hello = $t->app('hello');
    my $app = FcgiPmTest::app_conf('a', "$hello --app=a", 'Processes 1');

    # Expect a configtest failure naming $file:$line (the line matching
    # $line_re in the written config) and $msg_re.
    my $fails = sub {
        my ($name, $conf, $line_re, $msg_re) = @_;
        my ($rc, $out) = $t->configtest($conf);
        isnt($rc, 0, "$name: configtest fails");
        my $line = $t->conf_line_of($conf, $line_re);
        ok(defined $line, "$name: the offending line is in the config") or return;
        like($out, qr/\Q$conf\E:$line\b/, "$name: names $conf:$line") or diag($out);
        like($out, $msg_re, "$name: says why") or diag($out);
    };

    # World-writable socket directory.
    my $ww = "$root/ww-sock";
    mkdir $ww; chmod 0777, $ww;
    my $c = $t->write_conf($app, sockdir => $ww, file => 'ww.conf');
    $fails->('world-writable FcgiPmSocketDir', $c, qr/^FcgiPmSocketDir/, qr/writable by everyone/);

    # Group-writable, owned by root.
    my $gw = "$root/gw-sock";
    mkdir $gw; chmod 0770, $gw;
    $c = $t->write_conf($app, sockdir => $gw, file => 'gw.conf');
    $fails->('group-writable FcgiPmSocketDir', $c, qr/^FcgiPmSocketDir/, qr/writable by its group/);

    # A symlink to a good directory.
    my $real = "$root/real-sock";
    mkdir $real; chmod 0755, $real;
    symlink $real, "$root/link-sock" or die "symlink: $!";
    $c = $t->write_conf($app, sockdir => "$root/link-sock", file => 'link.conf');
    $fails->('symlinked FcgiPmSocketDir', $c, qr/^FcgiPmSocketDir/, qr/symbolic link/);

    # Owned by another user (nobody), mode 0755.
    my $foreign = "$root/foreign-sock";
    mkdir $foreign; chmod 0755, $foreign; chown $nobody_uid, 0, $foreign;
    $c = $t->write_conf($app, sockdir => $foreign, file => 'foreign.conf');
    $fails->('FcgiPmSocketDir owned by nobody', $c, qr/^FcgiPmSocketDir/, qr/owned by uid $nobody_uid/);

    # The default directory (DefaultRuntimeDir/fcgi-pm) is checked too.
    my $dflt = "$root/run/fcgi-pm";
    mkdir $dflt; chmod 0777, $dflt;
    $c = $t->write_conf($app, sockdir => 0, file => 'default.conf');
    my ($rc, $out) = $t->configtest($c);
    isnt($rc, 0, 'world-writable default socket directory: configtest fails');
    like($out, qr/FcgiPmSocketDir is not set.*\Q$dflt\E.*writable by everyone/, 'and names it') or diag($out);
    rmdir $dflt;

    # A good existing directory (root 0755) and the www-data-owned layout
    # of earlier versions are accepted.
    $c = $t->write_conf($app, sockdir => $real, file => 'real.conf');
    ($rc, $out) = $t->configtest($c);
    is($rc, 0, 'root-owned 0755 FcgiPmSocketDir accepted') or diag($out);
    my $legacy = "$root/legacy-sock";
    mkdir $legacy; chmod 0700, $legacy; chown $www_uid, $www_gid, $legacy;
    $c = $t->write_conf($app, sockdir => $legacy, file => 'legacy.conf');
    ($rc, $out) = $t->configtest($c);
    is($rc, 0, 'www-data-owned 0700 FcgiPmSocketDir (earlier versions) accepted') or diag($out);
    my @ls = lstat $legacy;
    is("$ls[4]:" . sprintf('%04o', $ls[2] & 07777), "$www_uid:0700", 'configtest changes nothing');

    # httpd's Group root.
    $c = $t->write_conf("Group root\n$app", file => 'grouproot.conf');
    $fails->('httpd Group root', $c, qr/^Group root/, qr/httpd's Group is root/);

    # #uid / #gid in an app, as httpd accepts them.
    $c = $t->write_conf(FcgiPmTest::app_conf('num', "$hello --app=num", 'Processes 1',
                                             "User #$nobody_uid", "Group #$www_gid"), file => 'num.conf');
    ($rc, $out) = $t->configtest($c);
    is($rc, 0, "User #$nobody_uid / Group #$www_gid accepted") or diag($out);
    $c = $t->write_conf(FcgiPmTest::app_conf('num0', "$hello --app=num0", 'User #0'), file => 'num0.conf');
    $fails->('User #0', $c, qr/User #0/, qr/never run as root/);
    $c = $t->write_conf(FcgiPmTest::app_conf('numx', "$hello --app=numx", 'Group #12x'), file => 'numx.conf');
    $fails->('Group #12x', $c, qr/Group #12x/, qr/not a valid #gid/);

    # Unterminated quotes.
    $c = $t->write_conf("<FcgiPmApp q>\n    Command $hello \"--app=q\n</FcgiPmApp>\n", file => 'quote.conf');
    $fails->('unterminated quote in Command', $c, qr/Command .*"--app=q/, qr/unterminated quote/);
    $c = $t->write_conf("<FcgiPmApp q2>\n    Command $hello\n    Env FOO 'bar baz\n</FcgiPmApp>\n", file => 'quote2.conf');
    $fails->('unterminated quote in Env', $c, qr/Env FOO/, qr/unterminated quote/);
    $c = $t->write_conf("<FcgiPmApp q3>\n    Command $hello \"--app=q3 x\" 'y\\'z'\n</FcgiPmApp>\n", file => 'quote3.conf');
    ($rc, $out) = $t->configtest($c);
    is($rc, 0, 'closed quotes (with an escaped quote) accepted') or diag($out);

    # An app record larger than a protocol message.
    my $big = join '', map { "    Env BIG$_ " . ('x' x 7000) . "\n" } 1 .. 40;
    $c = $t->write_conf("<FcgiPmApp big>\n    Command $hello --app=big\n$big</FcgiPmApp>\n", file => 'big.conf');
    $fails->('app record too large', $c, qr/^<FcgiPmApp big>/, qr/is \d+ bytes.*more than the \d+ bytes/);
    # Just under the limit is fine.
    $big = join '', map { "    Env BIG$_ " . ('x' x 7000) . "\n" } 1 .. 30;
    $c = $t->write_conf("<FcgiPmApp big>\n    Command $hello --app=big\n$big</FcgiPmApp>\n", file => 'big2.conf');
    ($rc, $out) = $t->configtest($c);
    is($rc, 0, 'a 210 KB app record is accepted') or diag($out);

    # More apps than the table holds.
    my $many = join '', map { "<FcgiPmApp m$_>\n    Command $hello --app=m$_\n</FcgiPmApp>\n" } 1 .. 10001;
    $c = $t->write_conf($many, file => 'many.conf');
    $fails->('10001 apps', $c, qr/^<FcgiPmApp m10001>/, qr/too many apps \(at most 10000\)/);
    $many = join '', map { "<FcgiPmApp m$_>\n    Command $hello --app=m$_\n</FcgiPmApp>\n" } 1 .. 10000;
    $c = $t->write_conf($many, file => 'many2.conf');
    ($rc, $out) = $t->configtest($c);
    is($rc, 0, '10000 apps accepted') or diag($out);
};

#----------------------------------------------------------------------------
# Running server: directory, sockets, isolation, legacy takeover, pid file
#----------------------------------------------------------------------------
subtest 'sockets, isolation and pid file' => sub {
    my $t = FcgiPmTest->new;
    my $root = $t->root;
    my $hello = $t->app('hello');
    my $dir = $t->sockdir;
    # The layout of earlier versions: owned by httpd's User, mode 0700.
    mkdir $dir; chmod 0700, $dir; chown $www_uid, $www_gid, $dir;

    # Pid file in a directory www-data can write; a root file as the target.
    my $pidd = "$root/pidd";
    mkdir $pidd; chmod 0755, $pidd; chown $www_uid, $www_gid, $pidd;
    my $pidfile = "$pidd/fcgi-pm.pid";
    my $victim = "$root/victim";
    { open my $fh, '>', $victim or die; print {$fh} "precious\n"; close $fh; chmod 0644, $victim }
    is(as_www(sub {
        symlink($victim, $pidfile) or return 1;
        symlink($victim, "$pidfile.tmp") or return 2;
        return 0;
    }), 0, 'www-data planted symlinks to a root file at the pid file and at its old temporary name');

    $t->write_conf("FcgiPmPidFile $pidfile\n"
        . FcgiPmTest::app_conf('a', "$hello --app=a", 'Processes 1', 'ShutdownTimeout 3')
        . FcgiPmTest::app_conf('b', "$hello --app=b", 'Processes 1', 'ShutdownTimeout 3'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/a/', 20) && $t->wait_ok('/b/', 20), 'both apps answer through httpd\'s children');

    # Directory and sockets.
    my @ds = lstat $dir;
    is(sprintf('%d:%d %04o', $ds[4], $ds[5], $ds[2] & 07777), "0:$www_gid 0710",
       'the www-data-owned socket directory became root:www-data 0710');
    for my $n (qw(a b)) {
        my @ss = lstat "$dir/$n.sock";
        ok(@ss && S_ISSOCK($ss[2]), "$n.sock is a socket") or next;
        is(sprintf('%d:%d %04o', $ss[4], $ss[5], $ss[2] & 07777), "0:$www_gid 0660",
           "$n.sock is root:www-data 0660");
    }

    # www-data cannot create, rename or remove entries.
    is(as_www(sub {
        return 1 if sysopen(my $fh, "$dir/planted", O_CREAT | O_EXCL | O_WRONLY);
        return 2 unless $!{EACCES};
        return 3 if symlink('/etc/shadow', "$dir/planted");
        return 4 if rename("$dir/a.sock", "$dir/moved");
        return 5 if unlink("$dir/a.sock");
        return 6 if mkdir("$dir/sub");
        return 0;
    }), 0, 'www-data cannot create, symlink, rename, remove or mkdir in the socket directory');
    ok(-S "$dir/a.sock" && !-e "$dir/planted" && !-e "$dir/moved", 'directory unchanged');

    # Isolation: a worker of app a (its exact ids) cannot reach b's socket;
    # httpd's children's ids can.
    my ($wa) = $t->workers(match => qr/--app=a\b/);
    ok($wa, 'worker of a found') or return;
    my $st = FcgiPmTest::proc_status($wa);
    my ($uid, $gid, @groups) = ($st->{uid}[0], $st->{gid}[0], @{ $st->{groups} || [] });
    note("worker of a: uid $uid gid $gid groups @groups");
    isnt($gid, $www_gid, 'the worker does not run with group www-data');
    ok(!grep({ $_ == $www_gid } @groups), 'nor has it as a supplementary group');
    is(as_ids($uid, $gid, \@groups, try_connect("$dir/b.sock")), 1,
       "a's worker identity cannot connect to b.sock (EACCES)");
    is(as_ids($uid, $gid, \@groups, try_connect("$dir/a.sock")), 1,
       "nor to its own app's socket by path");
    is(as_www(try_connect("$dir/b.sock")), 0, 'www-data:www-data (httpd\'s children) can connect to b.sock');
    is(as_ids($uid, $www_gid, [$www_gid], try_connect("$dir/b.sock")), 0,
       'control: the same uid with group www-data could');

    # Pid file: written as a regular file by rename, the target untouched.
    my $mpid = $t->manager_pid;
    ok(wait_for(sub { !-l $pidfile && -f $pidfile && (slurp($pidfile) // '') =~ /^\Q$mpid\E\n/ }, 10),
       "pid file $pidfile replaced by a regular file holding the manager's pid $mpid");
    is(slurp($victim), "precious\n", 'the symlinks\' target is unchanged');
    my @ps = lstat $pidfile;
    is($ps[4], 0, 'pid file owned by root');

    # Graceful with a FIFO at the old temporary name and a symlink at the
    # pid file again: the manager rewrites the pid file and is not blocked.
    is(as_www(sub {
        unlink "$pidfile.tmp";
        POSIX::mkfifo("$pidfile.tmp", 0666) or return 1;
        unlink $pidfile or return 2;
        symlink($victim, $pidfile) or return 3;
        return 0;
    }), 0, 'www-data put a FIFO at the temporary name and a symlink at the pid file');
    ok($t->graceful, 'graceful');
    ok(wait_for(sub { !-l $pidfile && (slurp($pidfile) // '') =~ /^\Q$mpid\E\n/ }, 15),
       'the manager rewrote the pid file after the graceful (not blocked on the FIFO)');
    is(slurp($victim), "precious\n", 'target still unchanged');
    ok($t->wait_ok('/a/', 20), 'app a answers after the graceful');
    opendir(my $dh, $pidd) or die "opendir $pidd: $!";
    my @left = grep { /^\.fcgi-pm\.pid\./ } readdir $dh;
    closedir $dh;
    is("@left", '', 'no temporary pid file left behind');

    # Stop with a FIFO at the pid file: the manager must not block reading it.
    is(as_www(sub {
        unlink $pidfile or return 1;
        POSIX::mkfifo($pidfile, 0666) or return 2;
        return 0;
    }), 0, 'www-data replaced the pid file by a FIFO');
    ok($t->stop, 'httpd stopped');
    ok(wait_for(sub { !FcgiPmTest::pid_alive($mpid) }, 30), "manager $mpid exited (not blocked on the FIFO)");
    ok(-p $pidfile, 'the FIFO (not holding our pid) was left alone');
    is(slurp($victim), "precious\n", 'target still unchanged at the end');
};

#----------------------------------------------------------------------------
# A socket path another server listens on is never taken
#----------------------------------------------------------------------------
subtest 'live socket not replaced' => sub {
    my $t = FcgiPmTest->new;
    my $root = $t->root;
    my $hello = $t->app('hello');
    my $dir = $t->sockdir;
    mkdir $dir; chmod 0755, $dir;        # root-owned, accepted as is
    my $path = "$dir/live.sock";
    my $hits = "$root/intruder-hits";

    my $srv = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Local => $path, Listen => 16)
        or die "listen $path: $!";
    chown $nobody_uid, 0, $path;         # "another user's" server
    my $ino = (lstat $path)[1];
    my $lpid = fork;
    die "fork: $!" unless defined $lpid;
    if ($lpid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        $SIG{PIPE} = 'IGNORE';
        my $deadline = time + 120;
        while (time < $deadline) {
            my $c = $srv->accept or next;
            if (open my $fh, '>>', $hits) { print {$fh} "hit\n"; close $fh }
            print {$c} "INTRUDER\n";
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;

    $t->write_conf(FcgiPmTest::app_conf('live', "$hello --app=live", 'Processes 1', 'ShutdownTimeout 3')
                   . FcgiPmTest::app_conf('ok', "$hello --app=ok", 'Processes 1', 'ShutdownTimeout 3'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/ok/', 20), 'the other app answers');
    like($t->log_text, qr/app live: no listen socket.*another server listens on \Q$path\E/,
         'the error log says another server listens on the path');
    my @ls = lstat $path;
    is("$ls[1] $ls[4]", "$ino $nobody_uid", 'the live socket was not unlinked nor replaced');
    my $hits0 = () = (slurp($hits) // '') =~ /hit/g;
    my $r = $t->get('/live/');
    is($r->{status}, 503, 'requests for the app get 503');
    my $hits1 = () = (slurp($hits) // '') =~ /hit/g;
    is($hits1, $hits0, 'and none was handed to the other server');
    unlike($r->{body}, qr/INTRUDER/, 'no answer from the other server');
    my $c = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Peer => $path);
    is($c ? scalar(<$c>) : undef, "INTRUDER\n", 'the other server still serves its socket');

    # Once that server is gone, its dead socket is replaced at the graceful.
    if ($lpid && $lpid > 1) { kill 'KILL', $lpid; waitpid($lpid, 0) }
    ok($t->graceful, 'graceful');
    ok($t->wait_ok('/live/', 20), 'the app answers once the dead socket is replaced');
    my @ss = lstat $path;
    is(sprintf('%d:%d %04o', $ss[4], $ss[5], $ss[2] & 07777), "0:$www_gid 0660",
       'a new socket file, root:www-data 0660');
    my @ds = lstat $dir;
    is(sprintf('%04o', $ds[2] & 07777), '0755', 'a root-owned directory is left as the operator made it');
    ok($t->stop, 'httpd stopped');
};

done_testing;
