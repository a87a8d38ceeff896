-- name: GetStripeCustomer :one
SELECT * FROM stripe_customers WHERE user_id = @user_id;

-- name: GetStripeCustomerById :one
SELECT * FROM stripe_customers WHERE customer_id = @customer_id;

-- name: CreateStripeCustomer :exec
-- The first customer stored for a user wins; callers read the row back.
INSERT INTO stripe_customers (user_id, customer_id)
VALUES (@user_id, @customer_id)
ON CONFLICT (user_id) DO NOTHING;
