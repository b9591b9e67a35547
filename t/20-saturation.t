#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 20-saturation.t - php-cgi recycling under saturating load (issue 7).
#
# php-cgi exits by itself after PHP_FCGI_MAX_REQUESTS requests.  With more
# clients than workers a worker is busy from its first moment to its exit:
# such an exit is a recycle (replace at once), never a start-up failure.
#
# 1. PHP_FCGI_MAX_REQUESTS=50, Processes 2, 16 clients for 20 s: zero 503,
#    zero failed, many recycles logged, no "backing off".
# 2. The same load with 5 gracefuls: zero failed; every roll completes (all
#    workers of before the graceful gone) within 5 s of its graceful; no
#    worker killed (no "ShutdownTimeout); killing it", no SIGKILL exit).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive);

plan skip_all => 'no /usr/bin/php-cgi (install php-cgi)' unless -x '/usr/bin/php-cgi';

my $CLIENTS = 16;

sub setup {
    my $t = FcgiPmTest->new(mpm => 'event');
    my $root = $t->root;
    $t->docfile('hello.php');
    my $docroot = $t->docroot;
    my $tag = $t->tag_env;
    $t->write_conf(<<"EOT" . FcgiPmTest::status_conf());
<FcgiPmApp php>
    Command /usr/bin/php-cgi -d fcgipm.tag=$root
    Processes 2
    Env PHP_FCGI_MAX_REQUESTS 50
    $tag
    ShutdownTimeout 10
</FcgiPmApp>
<Directory "$docroot">
    <Files "*.php">
        FcgiPmPass php
    </Files>
</Directory>
EOT
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/hello.php', 20), 'php answers');
    return $t;
}

sub php_workers { my ($t) = @_; return $t->workers(match => qr{^/usr/bin/php-cgi -d fcgipm\.tag=}) }

sub start_load {
    my ($t) = @_;
    return $t->load_start(
        clients => $CLIENTS, until_stopped => 1, max_seconds => 60, timeout => 30,
        expect  => qr/^APP=hello-php$/m,
        path    => sub { my ($c, $i) = @_; return "/hello.php?c=$c&i=$i" },
    );
}

sub check_load {
    my ($t, $s, $what) = @_;
    note("$what: " . FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 500, "$what: at least 500 requests ($s->{total})");
    is($s->{by_status}{503} // 0, 0, "$what: zero 503");
    is($s->{failed}, 0, "$what: zero failed requests (connection errors, timeouts, truncation)");
    is($s->{non2xx}, 0, "$what: zero non-2xx answers");
    is($s->{bad_body}, 0, "$what: every 2xx answer came from php");
    diag(join "\n", "$what: " . FcgiPmTest::load_summary_text($s), @{ $s->{errors} })
        if $s->{failed} || $s->{non2xx} || $s->{bad_body};
}

subtest 'saturation: recycles, not backoff' => sub {
    my $t = setup();
    my $manager = $t->manager_pid;
    my $mark = $t->log_mark;
    my $load = start_load($t);
    sleep 20;
    my $s = $t->load_finish($load);
    my $log = $t->log_since($mark);
    check_load($t, $s, 'saturation');
    my $exits = () = $log =~ /app php: worker \d+ exited/g;
    my $recycles_needed = int($s->{ok} / 50 / 2);
    cmp_ok($exits, '>=', 10, "workers recycled many times ($exits exits logged for $s->{total} requests)");
    cmp_ok($exits, '>=', $recycles_needed, "at least one exit per 100 answered requests ($exits >= $recycles_needed)");
    unlike($log, qr/before it was ready/, 'no exit taken for a start-up failure');
    unlike($log, qr/backing off/, 'no "backing off" in the log')
        or diag(join "\n", (grep { /backing off/ } split /\n/, $log)[0 .. 4]);
    is($t->manager_pid, $manager, 'manager unchanged');
    ok($t->stop, 'httpd stopped');
    ok(wait_for(sub { !$t->our_processes }, 20), 'nothing left after stop')
        or diag('left: ' . join(' ', map { "$_ (" . (FcgiPmTest::proc_cmdline($_) // '?') . ')' } $t->our_processes));
    $t->cleanup;
};

subtest 'saturation with 5 gracefuls: every roll completes within 5 s' => sub {
    my $t = setup();
    my $manager = $t->manager_pid;
    my $mark = $t->log_mark;
    my $load = start_load($t);
    sleep 2;
    for my $g (1 .. 5) {
        # Workers recycle every few hundred ms: list and identify them in
        # one go, or the list may name workers gone by the time they are
        # looked at.
        my $ids = {};
        wait_for(sub { $ids = FcgiPmTest::identities(php_workers($t)); keys %$ids >= 1 }, 5, 0.02);
        cmp_ok(scalar keys %$ids, '>=', 1, "graceful $g: php workers running before it");
        my $t0 = time;
        my $ok = eval { $t->graceful };
        ok($ok, "graceful $g") or diag($@);
        my $done = wait_for(sub { !FcgiPmTest::still_alive($ids) }, 5 - (time - $t0) > 0 ? 5 - (time - $t0) : 0.01, 0.05);
        my $took = time - $t0;
        ok($done, sprintf('graceful %d: the %d workers of before it are all gone (%.2f s)', $g, scalar keys %$ids, $took))
            or diag('still alive: ' . join(' ', FcgiPmTest::still_alive($ids)));
        sleep 2;
    }
    my $s = $t->load_finish($load);
    check_load($t, $s, 'saturation + 5 gracefuls');
    my $log = $t->log_since($mark);
    unlike($log, qr/ShutdownTimeout\); killing it/, 'no retired worker was killed at ShutdownTimeout');
    unlike($log, qr/\(SIGKILL\)/, 'no worker exit by SIGKILL logged');
    unlike($log, qr/backing off/, 'no "backing off" in the log');
    is($t->manager_pid, $manager, 'manager unchanged');
    ok($t->stop, 'httpd stopped');
    ok(wait_for(sub { !$t->our_processes }, 20), 'nothing left after stop');
    $t->cleanup;
};

done_testing;
