"""The kit's bootstrap: builds the Lambda zips, runs the local engine and provisions the stack."""
