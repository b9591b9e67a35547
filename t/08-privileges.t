#!/usr/bin/perl
# 08-privileges.t - workers never run as root: by default as httpd's
# User/Group (www-data), as the app's User/Group when set (nobody/nogroup);
# the unix socket is owned by www-data with mode 0600 in a directory others
# cannot enter, so another local user (nobody) cannot connect to it while
# www-data can; "User root" for an app is refused or ignored.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Fcntl qw(:mode);
use FcgiPmTest qw(wait_for);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my ($www_uid, $www_gid) = (getpwnam('www-data'))[2, 3];
my ($nobody_uid) = (getpwnam('nobody'))[2];
my ($nogroup_gid) = (getgrnam('nogroup'))[2];

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
EOT

ok($t->start, 'httpd started');
ok(wait_for(sub { $t->workers(match => qr/--app=def\b/) == 2 && $t->workers(match => qr/--app=nob\b/) == 1 }, 20),
   'workers up');
ok($t->wait_ok('/def/', 20) && $t->wait_ok('/nob/', 20), 'both apps answer');

sub check_ids {
    my ($pid, $uid, $gid, $what) = @_;
    my $st = FcgiPmTest::proc_status($pid);
    is_deeply($st->{uid}, [($uid) x 4], "$what $pid: real/effective/saved/fs uid $uid");
    is_deeply($st->{gid}, [($gid) x 4], "$what $pid: real/effective/saved/fs gid $gid");
    ok(!(grep { $_ == 0 } @{ $st->{groups} || [] }), "$what $pid: no supplementary group root ("
       . join(',', @{ $st->{groups} || [] }) . ')');
}

check_ids($_, $www_uid, $www_gid, 'def worker') for $t->workers(match => qr/--app=def\b/);
check_ids($_, $nobody_uid, $nogroup_gid, 'nob worker') for $t->workers(match => qr/--app=nob\b/);
is(FcgiPmTest::kv($t->get('/def/')->{body})->{UID}, $www_uid, 'def app answers as www-data');
is(FcgiPmTest::kv($t->get('/nob/')->{body})->{UID}, $nobody_uid, 'nob app answers as nobody');

# Socket directory and sockets.
my $dir = $t->sockdir;
my @ds = stat $dir;
ok(@ds, "socket directory $dir exists");
is($ds[4], $www_uid, 'socket directory owned by www-data');
is($ds[2] & 0007, 0, sprintf('socket directory gives nothing to others (mode %04o)', $ds[2] & 07777));
for my $app (qw(def nob)) {
    my $sock = "$dir/$app.sock";
    my @ss = lstat $sock;
    ok(@ss && S_ISSOCK($ss[2]), "$app.sock is a socket");
    next unless @ss;
    is($ss[4], $www_uid, "$app.sock owned by www-data");
    is(sprintf('%04o', $ss[2] & 07777), '0600', "$app.sock mode 0600");
    is($t->connect_as('www-data', $sock), 1, "www-data can connect to $app.sock (control)");
    is($t->connect_as('nobody', $sock), 0, "nobody cannot connect to $app.sock");
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
    my @ds = stat $d;
    ok(@ds, "$d exists");
    is($ds[4], $www_uid, 'owned by www-data') if @ds;
    is($ds[2] & 0007, 0, sprintf('gives nothing to others (mode %04o)', $ds[2] & 07777)) if @ds;
    my @ss = lstat "$d/dflt.sock";
    ok(@ss && S_ISSOCK($ss[2]), "$d/dflt.sock is a socket");
    is(sprintf('%04o', $ss[2] & 07777), '0600', 'mode 0600') if @ss;
    is($ss[4], $www_uid, 'owned by www-data') if @ss;
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
