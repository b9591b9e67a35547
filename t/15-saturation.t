#!/usr/bin/perl
# 15-saturation.t - php-cgi recycling under saturation (issue 7): 16
# clients on 2 workers with PHP_FCGI_MAX_REQUESTS=50, so every worker
# exits after 50 requests while connections wait in the queue.  Without
# reloads and with 5 gracefuls: zero failed requests, zero 503, many
# recycles and no backoff in the log, every roll done (the old roll's
# workers gone) within 5 s of its graceful, no worker killed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive);

plan skip_all => 'no /usr/bin/php-cgi' unless -x '/usr/bin/php-cgi';

for my $gracefuls (0, 5) {
    subtest "saturation, $gracefuls gracefuls" => sub { run($gracefuls) };
}
done_testing;

sub run {
    my ($gracefuls) = @_;
    my $t = FcgiPmTest->new;
    my $root = $t->root;
    $t->docfile('hello.php');
    $t->write_conf(<<"EOT");
<FcgiPmApp php>
    Command /usr/bin/php-cgi -d fcgipm.tag=$root
    Processes 2
    Env PHP_FCGI_MAX_REQUESTS 50
    ShutdownTimeout 20
</FcgiPmApp>
<Files "*.php">
    FcgiPmPass php
</Files>
EOT
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/hello.php', 20), 'php answers');
    my $load = $t->load_start(
        clients => 16, min_requests => 2000, until_stopped => 1,
        max_seconds => 90, timeout => 30, expect => qr/APP=hello-php/,
        path => sub { "/hello.php?c=$_[0]&i=$_[1]" });
    sleep 2;
    my $late = 0;
    for my $g (1 .. $gracefuls) {
        my @old = $t->workers(match => qr/php-cgi/);
        ok(eval { $t->graceful }, "graceful $g") or diag($@);
        my $at = time;
        # Recycled workers come and go: only those still alive count.
        my $done = wait_for(sub { !grep { pid_alive($_) } @old }, 5, 0.05);
        ok($done, "roll $g: the old workers are gone within 5 s")
            or $late++;
        sleep 1;
    }
    sleep 6 - $gracefuls if $gracefuls < 6;
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 500, "load ran ($s->{total} requests)");
    is($s->{failed}, 0, 'zero failed requests');
    is($s->{non2xx}, 0, 'zero non-2xx (no 503)');
    is($s->{bad_body}, 0, 'every answer from php');
    diag(join "\n", @{ $s->{errors} }[0 .. 9]) if $s->{failed} || $s->{non2xx};
    my $log = $t->log_text;
    my $recycles = () = $log =~ /recycled: replacing it/g;
    cmp_ok($recycles, '>=', 10, "workers recycled many times ($recycles)");
    unlike($log, qr/backing off/, 'no backoff');
    unlike($log, qr/before it was ready/, 'no exit taken for a start-up failure');
    unlike($log, qr/ShutdownTimeout\); killing it/, 'no worker killed');
    ok($t->stop, 'stopped');
}
