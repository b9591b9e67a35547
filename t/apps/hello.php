<?php
// SPDX-License-Identifier: Apache-2.0
// hello.php - executed by php-cgi workers in the mod_fcgi_pm test suite.
if (isset($_GET['sleep'])) {
    usleep((int)$_GET['sleep'] * 1000);
}
header('Content-Type: text/plain');
header('X-Php-Test: yes');
echo "APP=hello-php\n";
echo "PID=" . getmypid() . "\n";
echo "SCRIPT_FILENAME=" . ($_SERVER['SCRIPT_FILENAME'] ?? '') . "\n";
echo "SCRIPT_NAME=" . ($_SERVER['SCRIPT_NAME'] ?? '') . "\n";
echo "QUERY_STRING=" . ($_SERVER['QUERY_STRING'] ?? '') . "\n";
echo "FILE=" . __FILE__ . "\n";
echo "SUM=" . (6 * 7) . "\n";
