"""The stack provisioned: CloudFormation and its template, SSM parameters, the artifact bucket, MySQL (migrations, users), the warm-up, the deploy to AWS, and the queries that read what it holds."""
