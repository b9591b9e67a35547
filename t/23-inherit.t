#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 23-inherit.t - nothing a worker does to its fd 0 breaks the next worker
# (issue 7).
#
# App "nb" starts as t/apps/nonblock.c, whose workers set O_NONBLOCK on the
# listen socket (fd 0), a flag of the open file description all workers of
# the app share.  Under load, its Command is changed to a program that
# accepts blocking (libfcgi's hello.c; then php-cgi) and httpd is reloaded
# gracefully.  A blocking accept() on a non-blocking socket fails with
# EAGAIN and the worker exits: the manager must reset the socket's flags
# before every spawn.  Asserted: zero failed / non-2xx requests, the new
# program answers afterwards, its workers stay (no crash loop, no backoff).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for app_conf);

my @cases = ('hello-c');
push @cases, 'php' if -x '/usr/bin/php-cgi';
diag('php-cgi case skipped: no /usr/bin/php-cgi (install php-cgi)') unless -x '/usr/bin/php-cgi';

for my $case (@cases) {
    subtest "O_NONBLOCK app replaced by $case" => sub { run_case($case) };
}

sub run_case {
    my ($case) = @_;
    my $t = FcgiPmTest->new(mpm => 'event');
    my $root = $t->root;
    my $nb = $t->app('nonblock');
    my $hello = $t->app('hello');
    $t->docfile('hello.php', 'nb');
    my @common = ('Processes 2', 'ShutdownTimeout 10', $t->tag_env);
    my %cmd = (
        nonblock  => "$nb --app=nb",
        'hello-c' => "$hello --app=nb",
        php       => "/usr/bin/php-cgi -d fcgipm.tag=$root",
    );
    my %answer = (nonblock => 'nonblock', 'hello-c' => 'hello-c', php => 'hello-php');
    $t->write_conf(app_conf('nb', $cmd{nonblock}, @common));
    ok($t->start, 'httpd started');
    my $r = $t->wait_ok('/nb/hello.php', 20);
    ok($r && $r->{body} =~ /^APP=nonblock$/m, 'the O_NONBLOCK app answers');
    like($r ? $r->{body} : '', qr/^FD0_NONBLOCK=1$/m, 'its fd 0 is non-blocking (the test means something)');

    my $mark = $t->log_mark;
    my $load = $t->load_start(
        clients => 6, until_stopped => 1, max_seconds => 60, timeout => 30,
        expect  => qr/^APP=(?:nonblock|hello-c|hello-php)$/m,
        path    => sub { my ($c, $i) = @_; return "/nb/hello.php?c=$c&i=$i" },
    );
    sleep 1.5;
    $t->write_conf(app_conf('nb', $cmd{$case}, @common));
    ok(eval { $t->graceful }, "graceful with Command changed to $case") or diag($@);
    my $switched = wait_for(sub {
        my $x = $t->get('/nb/hello.php', timeout => 10);
        return $x->{status} == 200 && $x->{body} =~ /^APP=\Q$answer{$case}\E$/m;
    }, 15, 0.2);
    ok($switched, "$case answers after the graceful");
    sleep 3;
    my @w1 = $t->workers;
    sleep 2;
    my $s = $t->load_finish($load);
    my @w2 = $t->workers;
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 100, "at least 100 requests ($s->{total})");
    is($s->{failed}, 0, 'zero failed requests');
    is($s->{non2xx}, 0, 'zero non-2xx answers (no 503)');
    is($s->{bad_body}, 0, 'every answer from the app');
    diag(join "\n", FcgiPmTest::load_summary_text($s), @{ $s->{errors} })
        if $s->{failed} || $s->{non2xx} || $s->{bad_body};

    # The new workers live on.  php-cgi recycles by itself (500 requests),
    # so for it only the log is checked; hello-c keeps its pids.
    my $log = $t->log_since($mark);
    unlike($log, qr/backing off/, 'no backoff');
    unlike($log, qr/Resource temporarily unavailable|EAGAIN/i, 'no worker complains of EAGAIN on accept');
    if ($case eq 'hello-c') {
        is(scalar @w1, 2, '2 hello-c workers running') or diag("workers: @w1");
        is_deeply(\@w2, \@w1, 'the hello-c workers stay (no exit and respawn)');
        my $exits = () = $log =~ /worker \d+ exited: exited with status [1-9]/g;
        is($exits, 0, 'no worker exited with an error status');
    }
    my @answers = map { $t->get("/nb/hello.php?n=$_", timeout => 10) } 1 .. 10;
    is(scalar(grep { $_->{status} == 200 && $_->{body} =~ /^APP=\Q$answer{$case}\E$/m } @answers), 10,
       "10 of 10 requests answered by $case");
    ok($t->stop, 'httpd stopped');
    ok(wait_for(sub { !$t->our_processes }, 20), 'nothing left after stop');
    $t->cleanup;
}

done_testing;
