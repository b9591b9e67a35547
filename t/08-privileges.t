#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 08-privileges.t - workers never run as root and never with httpd's Group
# unless told: by default as httpd's User with group nogroup (and no
# supplementary www-data or root group), as the app's User/Group when set
# (nobody/nogroup), as the User's primary group when only User is set, and
# with www-data as group only when Group names it.  The socket directory is
# root:www-data 0710 and each unix socket root:www-data 0660, so httpd's
# children (www-data:www-data) connect while another local user (nobody)
# and a worker (www-data:nogroup) cannot; "User root" for an app is
# refused or ignored.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Fcntl qw(:mode);
use IO::Socket::UNIX;
use Socket ();
use POSIX ();
use FcgiPmTest qw(wait_for);

# connect_ids($uid, $gid, [@groups], $path) -> 1 connected, 0 refused
# (EACCES/EPERM), -1 other error: a forked helper takes exactly those ids.
sub connect_ids {
    my ($uid, $gid, $groups, $path) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $) = join ' ', $gid, @$groups ? @$groups : ($gid);
        POSIX::setgid($gid) or POSIX::_exit(90);
        POSIX::setuid($uid) or POSIX::_exit(91);
        POSIX::_exit(92) if $< != $uid || $> != $uid;
        my $s = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Peer => $path);
        POSIX::_exit(0) if $s;
        POSIX::_exit(($!{EACCES} || $!{EPERM}) ? 1 : 2);
    }
    waitpid($pid, 0);
    my $code = $? >> 8;
    return $code == 0 ? 1 : $code == 1 ? 0 : -1;
}

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my ($www_uid, $www_gid) = (getpwnam('www-data'))[2, 3];
my ($nobody_uid) = (getpwnam('nobody'))[2];
my ($nogroup_gid) = (getgrnam('nogroup'))[2];
$nogroup_gid //= 65534;
my ($nobody_gid) = (getpwnam('nobody'))[3];

$t->write_conf(<<"EOT");
<FcgiPmApp def>
    Command $hello --app=def
    Processes 2
    ShutdownTimeout 3
</FcgiPmApp>
<Location /def>
    FcgiPmPass def
</Location>
<FcgiPmApp nob>
    Command $hello --app=nob
    Processes 1
    User nobody
    Group nogroup
    ShutdownTimeout 3
</FcgiPmApp>
<Location /nob>
    FcgiPmPass nob
</Location>
<FcgiPmApp onlyuser>
    Command $hello --app=onlyuser
    Processes 1
    User nobody
    ShutdownTimeout 3
</FcgiPmApp>
<FcgiPmApp wwwgrp>
    Command $hello --app=wwwgrp
    Processes 1
    Group www-data
    ShutdownTimeout 3
</FcgiPmApp>
EOT

{
    my ($rc, $out) = $t->configtest;
    is($rc, 0, 'configtest accepts the configuration') or diag($out);
    like($out, qr/httpd\.conf:\d+: <FcgiPmApp wwwgrp>: Group www-data is httpd's Group: this app's workers can connect to every app's socket/,
         'configtest notes that wwwgrp keeps httpd\'s Group');
}

ok($t->start, 'httpd started');
ok(wait_for(sub { $t->workers(match => qr/--app=def\b/) == 2 && $t->workers(match => qr/--app=nob\b/) == 1
                  && $t->workers(match => qr/--app=onlyuser\b/) == 1 && $t->workers(match => qr/--app=wwwgrp\b/) == 1 }, 20),
   'workers up');
ok($t->wait_ok('/def/', 20) && $t->wait_ok('/nob/', 20), 'both apps answer');

sub check_ids {
    my ($pid, $uid, $gid, $what, $www_ok) = @_;
    my $st = FcgiPmTest::proc_status($pid);
    my @groups = @{ $st->{groups} || [] };
    is_deeply($st->{uid}, [($uid) x 4], "$what $pid: real/effective/saved/fs uid $uid");
    is_deeply($st->{gid}, [($gid) x 4], "$what $pid: real/effective/saved/fs gid $gid");
    ok(!(grep { $_ == 0 } @groups), "$what $pid: no supplementary group root (@groups)");
    ok(!(grep { $_ == $www_gid } @groups), "$what $pid: no supplementary group www-data (@groups)")
        unless $www_ok;
    return $st;
}

my %ids;
for my $pid ($t->workers(match => qr/--app=def\b/)) {
    $ids{def} = check_ids($pid, $www_uid, $nogroup_gid, 'def worker (httpd\'s User, group nogroup)');
}
$ids{nob} = check_ids($_, $nobody_uid, $nogroup_gid, 'nob worker') for $t->workers(match => qr/--app=nob\b/);
check_ids($_, $nobody_uid, $nobody_gid, 'onlyuser worker (User\'s primary group)')
    for $t->workers(match => qr/--app=onlyuser\b/);
my $wwwgrp;
$wwwgrp = check_ids($_, $www_uid, $www_gid, 'wwwgrp worker (Group www-data named)', 1)
    for $t->workers(match => qr/--app=wwwgrp\b/);
is(FcgiPmTest::kv($t->get('/def/')->{body})->{UID}, $www_uid, 'def app answers as www-data');
is(FcgiPmTest::kv($t->get('/nob/')->{body})->{UID}, $nobody_uid, 'nob app answers as nobody');

# Socket directory and sockets.
my $dir = $t->sockdir;
my @ds = lstat $dir;
ok(@ds && S_ISDIR($ds[2]), "socket directory $dir exists");
is($ds[4], 0, 'socket directory owned by root');
is($ds[5], $www_gid, 'socket directory group www-data');
is(sprintf('%04o', $ds[2] & 07777), '0710', 'socket directory mode 0710');
for my $app (qw(def nob)) {
    my $sock = "$dir/$app.sock";
    my @ss = lstat $sock;
    ok(@ss && S_ISSOCK($ss[2]), "$app.sock is a socket");
    next unless @ss;
    is($ss[4], 0, "$app.sock owned by root");
    is($ss[5], $www_gid, "$app.sock group www-data");
    is(sprintf('%04o', $ss[2] & 07777), '0660', "$app.sock mode 0660");
    is($t->connect_as('www-data', $sock), 1, "www-data:www-data (httpd's children) can connect to $app.sock");
    is($t->connect_as('nobody', $sock), 0, "nobody cannot connect to $app.sock");
    # As the workers run: their exact uid, gid and groups.
    for my $w (sort keys %ids) {
        my $st = $ids{$w};
        is(connect_ids($st->{uid}[0], $st->{gid}[0], $st->{groups}, $sock), 0,
           "a $w worker's identity (uid $st->{uid}[0] gid $st->{gid}[0] groups @{ $st->{groups} }) cannot connect to $app.sock");
    }
    is(connect_ids($wwwgrp->{uid}[0], $wwwgrp->{gid}[0], $wwwgrp->{groups}, $sock), 1,
       "control: the wwwgrp worker's identity (Group www-data named) can connect to $app.sock") if $wwwgrp;
}

ok($t->stop, 'httpd stopped');

# Without FcgiPmSocketDir the sockets go to DefaultRuntimeDir/fcgi-pm, with
# the same ownership and modes.
subtest 'default socket directory' => sub {
    my $t3 = FcgiPmTest->new;
    my $h3 = $t3->app('hello');
    $t3->write_conf(<<"EOT", sockdir => 0);
<FcgiPmApp dflt>
    Command $h3 --app=dflt
    Processes 1
    ShutdownTimeout 3
</FcgiPmApp>
<Location /dflt>
    FcgiPmPass dflt
</Location>
EOT
    ok($t3->start, 'httpd started');
    ok($t3->wait_ok('/dflt/', 20), 'app answers');
    my $d = $t3->root . '/run/fcgi-pm';
    my @ds = lstat $d;
    ok(@ds && S_ISDIR($ds[2]), "$d exists");
    if (@ds) {
        is($ds[4], 0, 'owned by root');
        is($ds[5], $www_gid, 'group www-data');
        is(sprintf('%04o', $ds[2] & 07777), '0710', 'mode 0710');
    }
    my @ss = lstat "$d/dflt.sock";
    ok(@ss && S_ISSOCK($ss[2]), "$d/dflt.sock is a socket");
    if (@ss) {
        is(sprintf('%04o', $ss[2] & 07777), '0660', 'mode 0660');
        is("$ss[4]:$ss[5]", "0:$www_gid", 'owned by root:www-data');
    }
    ok($t3->stop, 'httpd stopped');
    ok(wait_for(sub { !-e "$d/dflt.sock" }, 15), 'socket removed at stop');
};

# An app asking for User root: configtest refuses it, or its workers still
# do not run as root.
subtest 'User root' => sub {
    my $t2 = FcgiPmTest->new;
    my $h2 = $t2->app('hello');
    $t2->write_conf(<<"EOT");
<FcgiPmApp rootapp>
    Command $h2 --app=rootapp
    Processes 1
    User root
    Group root
    ShutdownTimeout 3
</FcgiPmApp>
<Location /rootapp>
    FcgiPmPass rootapp
</Location>
EOT
    my ($rc, $out) = $t2->configtest;
    if ($rc != 0) {
        pass('configtest refuses "User root" for an app');
        like($out, qr/httpd\.conf/, 'and names the config file');
        note($out);
        return;
    }
    note('configtest accepted User root; checking the workers');
    ok($t2->start, 'httpd started');
    $t2->wait_ok('/rootapp/', 15);
    my @w;
    wait_for(sub { @w = $t2->workers(match => qr/--app=rootapp\b/) }, 15);
    my $r = $t2->get('/rootapp/');
    ok(@w || $r->{status} != 200, 'worker started or request refused');
    for my $pid (@w) {
        my $st = FcgiPmTest::proc_status($pid);
        ok(!(grep { $_ == 0 } @{ $st->{uid} }), "worker $pid has no root uid (@{ $st->{uid} })");
    }
    if ($r->{status} == 200) {
        isnt(FcgiPmTest::kv($r->{body})->{UID}, 0, 'app does not answer as root');
    }
    ok($t2->stop, 'httpd stopped');
};

done_testing;
